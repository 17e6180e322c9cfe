// The pages behind the links Bookline emails: /reset-password (ask for a link, or set a new
// password with one) and /verify-email. The token is read from the address once and then
// removed from it, so it is not left in the history or sent on as a referrer.
"use strict";

const $ = (id) => document.getElementById(id);

function takeToken() {
  const params = new URLSearchParams(window.location.search);
  const token = params.get("token");
  if (token) history.replaceState(null, "", window.location.pathname);
  return token;
}

function problem(text) {
  const box = $("form-error");
  box.textContent = text || "";
  box.hidden = !text;
}

function done(text) {
  const box = $("done");
  box.textContent = text;
  box.hidden = false;
}

function fieldError(id, text) {
  const box = $(id + "-error");
  if (box) box.textContent = text || "";
  $(id).setAttribute("aria-invalid", text ? "true" : "false");
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (_) {
    return { ok: false, status: 0, body: { detail: "Network problem: check your connection and try again." } };
  }
  const text = await response.text();
  let parsed = {};
  try { parsed = text ? JSON.parse(text) : {}; } catch (_) { /* not JSON */ }
  if (response.status === 429) {
    parsed.detail = `Too many attempts. Try again in ${Number(response.headers.get("Retry-After")) || 60} seconds.`;
  }
  return { ok: response.ok, status: response.status, body: parsed };
}

function fieldProblems(body, fields) {
  for (const error of body.errors || []) if (fields[error.field]) fieldError(fields[error.field], error.message);
}

async function forgot(event) {
  event.preventDefault();
  problem("");
  fieldError("forgot-email", "");
  const email = $("forgot-email").value.trim();
  if (!email) { fieldError("forgot-email", "Enter your email address."); return; }
  const result = await post("/api/auth/password/forgot", { email });
  if (!result.ok) { fieldProblems(result.body, { email: "forgot-email" }); problem(result.body.detail || "That did not work."); return; }
  $("forgot-form").hidden = true;
  done(result.body.detail);
}

async function reset(event, token) {
  event.preventDefault();
  problem("");
  fieldError("new-password", "");
  fieldError("new-password-again", "");
  const password = $("new-password").value;
  if (password.length < 12) { fieldError("new-password", "Use at least 12 characters."); return; }
  if (password !== $("new-password-again").value) { fieldError("new-password-again", "The two passwords differ."); return; }
  const result = await post("/api/auth/password/reset", { token, newPassword: password });
  if (!result.ok) {
    fieldProblems(result.body, { newPassword: "new-password" });
    problem(result.body.detail || "That did not work.");
    return;
  }
  $("reset-form").hidden = true;
  done("Your password is changed and every device is signed out. Sign in with the new password.");
}

async function verify(token) {
  if (!token) { done(""); problem("This page needs the link from the email we sent you. Open the dashboard to send a new one."); return; }
  const result = await post("/api/auth/email/verify", { token });
  if (!result.ok) { done(""); $("done").hidden = true; problem(result.body.detail || "This link does not work."); return; }
  done(`Thank you: ${result.body.email} is confirmed. Email to your customers is no longer held.`);
}

document.addEventListener("DOMContentLoaded", () => {
  const token = takeToken();
  if (window.location.pathname === "/verify-email") { verify(token); return; }
  if (token) {
    $("title").textContent = "Choose a new password";
    $("reset-form").hidden = false;
    $("reset-form").addEventListener("submit", (event) => reset(event, token));
    $("new-password").focus();
  } else {
    $("forgot-form").hidden = false;
    $("forgot-form").addEventListener("submit", forgot);
  }
});
