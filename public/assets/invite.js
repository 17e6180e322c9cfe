// /invite: the page behind an invitation's emailed link. It shows who invited the person to
// what, then either creates their login (a new address chooses a password) or, for an address
// that already signs in, signs in (with its second factor) and joins with that login. Either
// way the dashboard opens signed in to the new workspace. The token is read from the address
// once and removed from it, so it stays out of the history and referrers.
"use strict";

function takeToken() {
  const token = new URLSearchParams(window.location.search).get("token");
  if (token) history.replaceState(null, "", window.location.pathname);
  return token;
}

function fieldError(id, text) {
  $(id + "-error").textContent = text || "";
  $(id).setAttribute("aria-invalid", text ? "true" : "false");
}

function failed(error) {
  notice(error instanceof ApiError ? error.message : "Something went wrong; try the link again.");
}

async function accept(token, password) {
  const headers = { "Content-Type": "application/json" };
  if (Session.token) headers.Authorization = "Bearer " + Session.token;
  const response = await fetch("/api/auth/invitations/accept", {
    method: "POST", credentials: "same-origin", headers,
    body: JSON.stringify(password ? { token, password, session: "cookie" } : { token, session: "cookie" }),
  }).catch(() => null);
  if (!response) throw new ApiError(0, "Network problem: check your connection and try again.");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    for (const error of body.errors || []) if (error.field === "password") fieldError("new-password", error.message);
    throw new ApiError(response.status, body.detail || "The invitation could not be accepted.");
  }
  window.location.assign("/dashboard");
}

document.addEventListener("DOMContentLoaded", async () => {
  const token = takeToken();
  if (!token) { notice("This page needs the link from your invitation email."); return; }
  let preview;
  try {
    preview = await Session.post("/api/auth/invitations/preview", { token });
  } catch (error) {
    failed(error);
    return;
  }
  $("title").textContent = `Join ${preview.businessName}`;
  $("summary").textContent = `You are invited to ${preview.businessName} as ${preview.role}, as ${preview.email}.`;
  $("summary").hidden = false;
  if (preview.existingAccount) {
    $("email").value = preview.email;
    $("login-form").hidden = false;
    $("password").focus();
    wireSignIn(() => accept(token).catch(failed), failed);
    return;
  }
  $("accept-form").hidden = false;
  $("new-password").focus();
  $("accept-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    notice("");
    fieldError("new-password", "");
    fieldError("new-password-again", "");
    const password = $("new-password").value;
    if (password.length < 12) { fieldError("new-password", "Use at least 12 characters."); return; }
    if (password !== $("new-password-again").value) { fieldError("new-password-again", "The two passwords differ."); return; }
    $("accept-button").disabled = true;
    try { await accept(token, password); } catch (error) { failed(error); } finally { $("accept-button").disabled = false; }
  });
});
