// Sign-in for the staff consoles (/admin, /compliance): the account must have the page's
// platform role (main[data-role]); everything else is session.js. The console script defines
// `startConsole()`.
"use strict";

const staff = { role: null, retryTimer: null };

function showStaff(section) {
  for (const id of ["sign-in", "console"]) $(id).hidden = id !== section;
}

function handle(error) {
  if (!(error instanceof ApiError)) { notice("Something went wrong: " + error.message); return; }
  if (error.status === 401) { Session.forget(); showStaff("sign-in"); notice("Your session has ended. Please sign in again."); return; }
  if (error.status === 403) { notice("Not allowed: " + error.message); return; }
  if (error.status === 429) { notice(`Too many requests. Try again in ${error.retryAfter || 60} seconds.`); return; }
  notice(error.message);
}

async function enterConsole() {
  const me = await api("/api/me");
  const wanted = document.querySelector("main").dataset.role;
  if (me.role !== wanted && !(wanted === "compliance" && me.role === "compliance")) {
    await Session.logout();
    showStaff("sign-in");
    notice(`This page is for platform ${wanted} accounts; you signed in as ${me.role || "a tenant user"}.`);
    return;
  }
  staff.role = me.role;
  showStaff("console");
  notice("");
  await startConsole();
}

document.addEventListener("DOMContentLoaded", async () => {
  wireSignIn(enterConsole, handle);
  $("logout").addEventListener("click", async () => { await Session.logout(); showStaff("sign-in"); notice("You are signed out."); });
  try {
    if (await Session.refresh()) { await enterConsole(); return; }
  } catch (error) { handle(error); return; }
  showStaff("sign-in");
});
