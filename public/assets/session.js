// Shared by the dashboard, admin and compliance pages: the signed-in session and API calls.
// The access token lives in memory only; the refresh token is an httpOnly cookie the page never
// sees (refresh and logout send X-Requested-With, which the server requires as CSRF proof).
"use strict";

const $ = (id) => document.getElementById(id);

function notice(text) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(detail);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const Session = {
  token: null,
  apiKey: null,
  timer: null,

  /// Trades the cookie for a new access token; false when there is no live session.
  async refresh() {
    const response = await fetch("/api/auth/refresh", {
      method: "POST", credentials: "same-origin", headers: { "X-Requested-With": "bookline" },
    });
    if (!response.ok) return false;
    this.accept(await response.json());
    return true;
  },

  accept(body) {
    this.token = body.accessToken;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh().catch(() => {}), Math.max(30, body.expiresIn - 60) * 1000);
  },

  /// Signs in. Resolves to null when signed in, or to `{ mfaToken }` when the account asks for
  /// its second factor next (then call `loginWithCode`). Throws ApiError with the server's
  /// reason (and Retry-After on 429).
  async login(email, password) {
    const body = await this.post("/api/auth/login", { email, password, session: "cookie" });
    if (body.mfaRequired) return { mfaToken: body.mfaToken };
    this.accept(body);
    return null;
  },

  /// The second step: a 6-digit code from the authenticator app, or one of the recovery codes.
  async loginWithCode(mfaToken, code) {
    const trimmed = code.replace(/\s+/g, "");
    const proof = /^\d{6}$/.test(trimmed) ? { code: trimmed } : { recoveryCode: code.trim() };
    this.accept(await this.post("/api/auth/login/mfa", Object.assign({ mfaToken, session: "cookie" }, proof)));
  },

  async post(path, payload) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
    } catch (_) {
      throw new ApiError(0, "Network problem: check your connection and try again.");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const wait = Number(response.headers.get("Retry-After")) || null;
      const detail = response.status === 429 && body.type && !String(body.type).endsWith("account-locked")
        ? `Too many attempts. Try again in ${wait || 60} seconds.` : (body.detail || "Sign-in failed.");
      throw new ApiError(response.status, detail, wait);
    }
    return body;
  },

  async logout() {
    await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin", headers: { "X-Requested-With": "bookline" } })
      .catch(() => {});
    this.forget();
  },

  forget() {
    this.token = null;
    this.apiKey = null;
    clearTimeout(this.timer);
  },

  /// Raw response for downloads; JSON (or null for 204) through `api`.
  async fetch(path, options = {}, retried = false) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    const credential = this.token || this.apiKey;
    if (credential) headers.Authorization = "Bearer " + credential;
    let response;
    try {
      response = await fetch(path, Object.assign({}, options, { headers, credentials: "same-origin" }));
    } catch (_) {
      throw new ApiError(0, "Network problem: check your connection. Retrying shortly.");
    }
    if (response.status === 401 && this.token && !retried && await this.refresh()) return this.fetch(path, options, true);
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new ApiError(response.status, detail, Number(response.headers.get("Retry-After")) || null);
    }
    return response;
  },
};

async function api(path, options = {}) {
  const response = await Session.fetch(path, options);
  return response.status === 204 ? null : response.json();
}

/// Saves a response body as a file, through a temporary object URL.
async function download(response, fallbackName) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="([^"]+)"/);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = match ? match[1] : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function tableCell(row, text) {
  const td = document.createElement("td");
  td.textContent = text == null || text === "" ? "–" : String(text);
  row.append(td);
  return td;
}

/// A labelled figure (the dashboard's and the admin console's cards).
function figureCard(label, value) {
  const card = document.createElement("div");
  card.className = "figure card";
  const name = document.createElement("p");
  name.className = "figure-label";
  name.textContent = label;
  const number = document.createElement("p");
  number.className = "figure-value";
  number.textContent = value;
  card.append(name, number);
  return card;
}

/// Wires a page's sign-in: `#login-form` (email, password), then `#mfa-form` (a code) when the
/// account has a second factor. `onSignedIn` runs once signed in; errors go to `onError`.
function wireSignIn(onSignedIn, onError) {
  let challenge = null;
  const back = () => {
    challenge = null;
    $("mfa-form").hidden = true;
    $("login-form").hidden = false;
  };
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    notice("");
    $("login-button").disabled = true;
    try {
      challenge = await Session.login($("email").value, $("password").value);
      $("password").value = "";
      if (challenge) {
        $("login-form").hidden = true;
        $("mfa-form").hidden = false;
        $("mfa-code").focus();
        return;
      }
      await onSignedIn();
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) notice(error.message); else onError(error);
    } finally {
      $("login-button").disabled = false;
    }
  });
  $("mfa-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    notice("");
    if (!challenge) { back(); return; }
    try {
      await Session.loginWithCode(challenge.mfaToken, $("mfa-code").value);
      $("mfa-code").value = "";
      back();
      await onSignedIn();
    } catch (error) {
      // An expired step or a locked account starts again from the password.
      if (error instanceof ApiError && (/expired|already used; sign in/.test(error.message) || error.status === 429)) back();
      if (error instanceof ApiError && error.status !== 0) notice(error.message); else onError(error);
    }
  });
  $("mfa-cancel").addEventListener("click", back);
}
