// "Your account": change the password, two-step verification (enrol with a QR code drawn in
// the page by qrcode.js, confirm, recovery codes shown once, turn off), the tenant-wide MFA
// requirement (owners), signed-in devices, and the unverified-address banner. Uses session.js
// and `handle` / `signOutLocally` from dashboard.js.
"use strict";

const account = { me: null };

function accountSaved(text) {
  $("account-saved").textContent = text;
}

function fieldMessage(id, text) {
  $(id + "-error").textContent = text || "";
  $(id).setAttribute("aria-invalid", text ? "true" : "false");
}

/// Called by start() with GET /api/me: the banner, and the enrolment a tenant may demand.
function showAccountState(me) {
  account.me = me;
  const person = me.account;
  $("verify-banner").hidden = !person || person.emailVerified;
  if (person) $("verify-email").textContent = person.email;
  $("account-panel").dataset.person = person ? "yes" : "no";
  document.querySelector('[data-tab="account-panel"]').hidden = !person;
}

async function loadAccount() {
  if (!account.me || !account.me.account) return;
  const [mfa, sessions] = await Promise.all([api("/api/me/mfa"), api("/api/me/sessions")]);
  $("mfa-state").textContent = mfa.enabled
    ? `On since ${new Date(mfa.enabledAt).toLocaleDateString()}; ${mfa.recoveryCodesLeft} recovery codes left.`
    : mfa.required ? "Required by this business, and not set up yet." : "Off. Turn it on to protect your sign-in with your phone.";
  $("mfa-enrol").hidden = mfa.enabled;
  $("mfa-disable").hidden = !mfa.enabled;
  if (mfa.enabled) $("mfa-enrolment").hidden = true;
  drawSessions(sessions.items);
  if (account.me.role === "owner") {
    try {
      const security = await api("/api/tenant/security");
      $("require-mfa").checked = security.mfaRequired;
      $("tenant-security").hidden = false;
    } catch (_) { $("tenant-security").hidden = true; }
  }
}

function drawSessions(items) {
  const body = $("sessions-table").tBodies[0];
  body.replaceChildren();
  for (const session of items) {
    const row = body.insertRow();
    tableCell(row, (session.current ? "This device: " : "") + (session.userAgent || "unknown device"));
    tableCell(row, session.ip);
    tableCell(row, new Date(session.createdAt).toLocaleString());
    tableCell(row, new Date(session.lastSeenAt).toLocaleString());
    const actions = tableCell(row, "");
    actions.textContent = "";
    if (session.current) continue;
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "secondary";
    revoke.textContent = "Sign out";
    revoke.setAttribute("aria-label", `Sign out ${session.userAgent || "this device"}`);
    revoke.addEventListener("click", async () => {
      try {
        await api(`/api/me/sessions/${session.id}`, { method: "DELETE" });
        await loadAccount();
      } catch (error) { handle(error); }
    });
    actions.append(revoke);
  }
}

const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

async function changePassword(event) {
  event.preventDefault();
  fieldMessage("current-password", "");
  fieldMessage("changed-password", "");
  try {
    await api("/api/me/password", json({ currentPassword: $("current-password").value, newPassword: $("changed-password").value }));
    $("current-password").value = "";
    $("changed-password").value = "";
    accountSaved("Password changed. Every other device is signed out.");
    await loadAccount();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 422 || error.status === 400)) {
      const target = /current/i.test(error.message) ? "current-password" : "changed-password";
      fieldMessage(target, error.message);
    } else handle(error);
  }
}

async function beginEnrolment() {
  try {
    const enrolment = await api("/api/me/mfa/totp", { method: "POST" });
    $("mfa-secret").textContent = enrolment.secret.replace(/(.{4})/g, "$1 ").trim();
    $("mfa-qr").replaceChildren(QRCode.svg(enrolment.otpauthUri, { label: "QR code to scan with your authenticator app" }));
    $("mfa-qr").dataset.uri = enrolment.otpauthUri;
    $("mfa-enrolment").hidden = false;
    $("mfa-recovery").hidden = true;
    $("mfa-confirm-code").focus();
  } catch (error) { handle(error); }
}

async function confirmEnrolment(event) {
  event.preventDefault();
  try {
    const result = await api("/api/me/mfa/totp/confirm", json({ code: $("mfa-confirm-code").value.replace(/\s+/g, "") }));
    $("mfa-confirm-code").value = "";
    $("mfa-enrolment").hidden = true;
    $("mfa-qr").replaceChildren();
    $("mfa-recovery-codes").textContent = result.recoveryCodes.join("\n");
    $("mfa-recovery").hidden = false;
    if (account.me.account.mfaEnrolmentRequired && await Session.refresh()) {
      // The new access token no longer waits for enrolment: the rest of the dashboard opens.
      await start({ keepTab: true });
    }
    await loadAccount();
  } catch (error) { handle(error); }
}

async function disableMFA(event) {
  event.preventDefault();
  const value = $("mfa-disable-code").value.trim();
  const proof = /^\d{6}$/.test(value.replace(/\s+/g, "")) ? { code: value.replace(/\s+/g, "") } : { recoveryCode: value };
  try {
    await api("/api/me/mfa/disable", json(proof));
    $("mfa-disable-code").value = "";
    $("mfa-recovery").hidden = true;
    accountSaved("Two-step verification is off.");
    await loadAccount();
  } catch (error) { handle(error); }
}

async function setRequirement() {
  try {
    await api("/api/tenant/security", { method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ mfaRequired: $("require-mfa").checked }) });
    accountSaved($("require-mfa").checked ? "Everyone now needs two-step verification to sign in." : "Two-step verification is optional again.");
  } catch (error) {
    $("require-mfa").checked = !$("require-mfa").checked;
    handle(error);
  }
}

async function signOutEverywhere() {
  if (!window.confirm("Sign out every device, this one included?")) return;
  try {
    await api("/api/me/sessions", { method: "DELETE" });
  } catch (error) { handle(error); return; }
  Session.forget();
  signOutLocally("You are signed out everywhere.");
}

async function resendVerification() {
  try {
    await api("/api/me/email/verification", { method: "POST" });
    $("verify-resend").textContent = "Sent: check your inbox";
    $("verify-resend").disabled = true;
  } catch (error) { handle(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("password-form").addEventListener("submit", changePassword);
  $("mfa-enrol").addEventListener("click", beginEnrolment);
  $("mfa-confirm").addEventListener("submit", confirmEnrolment);
  $("mfa-disable").addEventListener("submit", disableMFA);
  $("require-mfa").addEventListener("change", setRequirement);
  $("sessions-revoke-all").addEventListener("click", signOutEverywhere);
  $("verify-resend").addEventListener("click", resendVerification);
});
