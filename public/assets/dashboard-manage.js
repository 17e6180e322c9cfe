// Dashboard sections beyond the overview: leads (search, pages, CSV import with a dry run shown
// before committing) and API keys (create with scopes, shown once; revoke). Uses session.js and
// `handle` from dashboard.js.
"use strict";

const SCOPES = ["leads:read", "leads:write", "messages:send", "calls:read", "calls:write", "appointments:read",
  "appointments:write", "analytics:read", "settings:write", "keys:manage"];
const leadsState = { cursor: null };

function showTab(id) {
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.tab === id) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== id;
  if (id === "leads-panel") { loadLeads(true).catch(handle); loadOptOuts().catch(handle); }
  if (id === "keys-panel") loadKeys().catch(handle);
  if (id === "appointments-panel") loadAppointments().catch(handle);
  if (id === "messages-panel") { loadMessages().catch(handle); loadTemplates().catch(handle); }
  if (id === "settings-panel") loadSettings().catch(handle);
  if (id === "account-panel") loadAccount().catch(handle);
}

// --- Leads ----------------------------------------------------------------------------------

async function loadLeads(reset) {
  if (reset) leadsState.cursor = null;
  const query = new URLSearchParams({ limit: "25" });
  const q = $("lead-q").value.trim();
  if (q) query.set("q", q);
  if ($("lead-status").value) query.set("status", $("lead-status").value);
  if (leadsState.cursor) query.set("cursor", leadsState.cursor);
  const page = await api("/api/leads?" + query);
  const body = $("leads-table").tBodies[0];
  if (reset) body.replaceChildren();
  for (const lead of page.items) {
    const row = document.createElement("tr");
    row.dataset.id = lead.id;
    const name = tableCell(row, "");
    name.textContent = "";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = lead.name || "(no name)";
    open.setAttribute("aria-label", `Open lead ${lead.name || lead.phone}`);
    open.addEventListener("click", () => showLead(lead.id).catch(handle));
    name.append(open);
    tableCell(row, lead.phone); tableCell(row, lead.email); tableCell(row, lead.status);
    tableCell(row, new Date(lead.createdAt).toLocaleDateString());
    body.append(row);
  }
  if (reset && !page.items.length) {
    const row = document.createElement("tr");
    tableCell(row, "No leads match.").colSpan = 5;
    body.append(row);
  }
  leadsState.cursor = page.nextCursor || null;
  $("leads-more").hidden = !leadsState.cursor;
}

async function sendImport(dryRun) {
  const file = $("import-file").files[0];
  if (!file) { $("import-summary").textContent = "Choose a CSV file first."; return null; }
  return api("/api/leads/import" + (dryRun ? "?dry_run=true" : ""), {
    method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.text(),
  });
}

function summarise(report, dryRun) {
  const counts = report.counts || {};
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([name, n]) => `${n} ${name.replace(/_/g, " ")}`);
  const verb = dryRun ? "This file would give" : report.status === "running" ? "Importing in the background:" : "Imported:";
  return `${verb} ${parts.join(", ") || "nothing"}.`;
}

async function checkImport(event) {
  event.preventDefault();
  try {
    const report = await sendImport(true);
    if (!report) return;
    $("import-summary").textContent = summarise(report, true) + " Nothing has been written yet.";
    $("import-commit").hidden = false;
  } catch (error) { handle(error); }
}

async function commitImport() {
  $("import-commit").hidden = true;
  try {
    let report = await sendImport(false);
    $("import-summary").textContent = summarise(report, false);
    while (report && report.status === "running") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      report = await api(`/api/leads/imports/${report.id}`);
      $("import-summary").textContent = `${summarise(report, false)} (${report.processed} of ${report.total} rows)`;
    }
    await loadLeads(true);
  } catch (error) { handle(error); }
}

async function loadOptOuts() {
  const page = await api("/api/opt-outs?active=true&limit=50");
  const body = $("optouts-table").tBodies[0];
  body.replaceChildren();
  for (const optOut of page.items) {
    const row = body.insertRow();
    tableCell(row, optOut.phone || "(erased: kept as a hash only)");
    tableCell(row, optOut.reason);
    tableCell(row, new Date(optOut.createdAt).toLocaleDateString());
    const actions = tableCell(row, "");
    actions.textContent = "";
    if (optOut.phone) {
      const withdraw = document.createElement("button");
      withdraw.type = "button";
      withdraw.className = "secondary";
      withdraw.textContent = "Withdraw";
      withdraw.setAttribute("aria-label", `Withdraw the opt-out of ${optOut.phone}`);
      withdraw.addEventListener("click", async () => {
        const reason = window.prompt(`Why may ${optOut.phone} be contacted again? (kept in the audit log)`);
        if (!reason || !reason.trim()) return;
        try {
          await api(`/api/opt-outs/${encodeURIComponent(optOut.phone)}?reason=${encodeURIComponent(reason.trim())}`, { method: "DELETE" });
          await Promise.all([loadOptOuts(), loadLeads(true)]);
        } catch (error) { handle(error); }
      });
      actions.append(withdraw);
    }
  }
  if (!page.items.length) tableCell(body.insertRow(), "No opt-outs.").colSpan = 4;
}

// --- API keys -------------------------------------------------------------------------------

async function loadKeys() {
  const page = await api("/api/keys");
  const body = $("keys-table").tBodies[0];
  body.replaceChildren();
  for (const key of page.items || page) {
    const row = document.createElement("tr");
    row.dataset.id = key.id;
    tableCell(row, key.name);
    tableCell(row, `${key.prefix}…${key.lastFour}`);
    tableCell(row, key.scopes.join(" "));
    tableCell(row, key.status);
    const actions = tableCell(row, "");
    actions.textContent = "";
    if (key.status === "active") {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "danger";
      revoke.textContent = "Revoke";
      revoke.setAttribute("aria-label", `Revoke key ${key.name}`);
      revoke.addEventListener("click", () => revokeKey(key));
      actions.append(revoke);
    }
    body.append(row);
  }
}

async function revokeKey(key) {
  if (!window.confirm(`Revoke "${key.name}"? Anything using it stops working at once.`)) return;
  try {
    await api(`/api/keys/${key.id}`, { method: "DELETE" });
    await loadKeys();
  } catch (error) { handle(error); }
}

async function createKey(event) {
  event.preventDefault();
  const scopes = [...document.querySelectorAll("#key-scopes input:checked")].map((box) => box.value);
  try {
    const created = await api("/api/keys", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: $("key-name").value.trim(), scopes }),
    });
    $("new-key-value").textContent = created.key;
    $("new-key").hidden = false;
    $("key-name").value = "";
    await loadKeys();
  } catch (error) { handle(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll(".tabs a")) {
    link.addEventListener("click", (event) => { event.preventDefault(); showTab(link.dataset.tab); });
  }
  $("lead-search").addEventListener("submit", (event) => { event.preventDefault(); loadLeads(true).catch(handle); });
  $("leads-more").addEventListener("click", () => loadLeads(false).catch(handle));
  $("import-form").addEventListener("submit", checkImport);
  $("import-commit").addEventListener("click", commitImport);
  $("import-file").addEventListener("change", () => { $("import-commit").hidden = true; $("import-summary").textContent = ""; });
  $("key-create").addEventListener("submit", createKey);
  const scopes = $("key-scopes");
  for (const scope of SCOPES) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = scope;
    box.checked = scope.endsWith(":read");
    label.append(box, scope);
    scopes.append(label);
  }
});
