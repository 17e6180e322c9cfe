// The compliance console: find and export a data subject, erase them (typed confirmation, the
// receipt shown), download a tenant's export, and search and verify the audit log.
"use strict";

function subjectBody(extra) {
  const body = { tenantId: $("subject-tenant").value.trim() };
  if ($("subject-phone").value.trim()) body.phone = $("subject-phone").value.trim();
  if ($("subject-email").value.trim()) body.email = $("subject-email").value.trim();
  return JSON.stringify(Object.assign(body, extra || {}));
}

function showManifest(document_) {
  const box = $("subject-result");
  box.replaceChildren();
  const rows = document_.manifest || [];
  const summary = document.createElement("p");
  summary.textContent = rows.length ? `Found in ${rows.length} tables.` : "Nothing about this person in this tenant.";
  box.append(summary);
  if (rows.length) {
    const table = document.createElement("table");
    table.id = "manifest-table";
    const caption = table.createCaption();
    caption.textContent = "Sources";
    const head = table.createTHead().insertRow();
    for (const label of ["Table", "Rows"]) { const th = document.createElement("th"); th.scope = "col"; th.textContent = label; head.append(th); }
    const body = table.createTBody();
    for (const entry of rows) { const row = body.insertRow(); tableCell(row, entry.table); tableCell(row, entry.rows); }
    box.append(table);
  }
  const save = document.createElement("button");
  save.type = "button";
  save.className = "secondary";
  save.textContent = "Download the document (JSON)";
  save.addEventListener("click", () => {
    download(new Response(JSON.stringify(document_, null, 2), { headers: { "Content-Type": "application/json" } }), "subject-export.json");
  });
  box.append(save);
}

async function exportSubject(event) {
  event.preventDefault();
  try {
    const response = await Session.fetch("/api/compliance/subject-export", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: subjectBody(),
    });
    let body = await response.json();
    while (response.status === 202 && body.status === "pending") {
      $("subject-result").textContent = "Large export: running as a job…";
      await new Promise((resolve) => setTimeout(resolve, 1000));
      body = await api(`/api/compliance/subject-exports/${body.id}`);
    }
    showManifest(body.document || body);
  } catch (error) { handle(error); }
}

async function erase(event) {
  event.preventDefault();
  if ($("erasure-confirm").value.trim() !== "ERASE") { notice("Type ERASE to confirm the erasure."); $("erasure-confirm").focus(); return; }
  try {
    const receipt = await api("/api/compliance/erasure", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: subjectBody({ reason: $("erasure-reason").value.trim() }),
    });
    notice("");
    $("erasure-confirm").value = "";
    const box = $("receipt");
    box.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = receipt.repeated ? "Already erased: the first receipt" : "Erasure receipt";
    const list = document.createElement("dl");
    list.className = "review";
    const counts = Object.entries(receipt.counts).map(([table, n]) => `${table} ${n}`).join(", ") || "nothing found";
    for (const [label, value] of [["Receipt", receipt.id], ["Time", receipt.createdAt], ["Reason", receipt.reason],
      ["Rows", counts], ["Request hash", receipt.requestHash]]) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = value;
      list.append(dt, dd);
    }
    box.append(title, list);
    box.hidden = false;
    box.focus();
  } catch (error) { handle(error); }
}

async function exportTenant(event) {
  event.preventDefault();
  try {
    const response = await Session.fetch(`/api/clients/${encodeURIComponent($("export-tenant").value.trim())}/export?format=zip`);
    await download(response, "tenant-export.zip");
  } catch (error) { handle(error); }
}

async function searchAudit(event) {
  event.preventDefault();
  const query = new URLSearchParams({ tenantId: $("audit-tenant").value.trim(), limit: "100" });
  if ($("audit-action").value.trim()) query.set("action", $("audit-action").value.trim());
  try {
    const page = await api("/api/audit?" + query);
    const body = $("audit-table").tBodies[0];
    body.replaceChildren();
    for (const entry of page.items) {
      const row = body.insertRow();
      tableCell(row, new Date(entry.createdAt).toLocaleString());
      tableCell(row, entry.action);
      tableCell(row, `${entry.actorType}${entry.actorId ? " " + entry.actorId : ""}`);
      tableCell(row, entry.targetType ? `${entry.targetType} ${entry.targetId || ""}` : "");
      tableCell(row, Object.entries(entry.details).map(([k, v]) => `${k}=${v}`).join(" "));
    }
  } catch (error) { handle(error); }
}

async function verifyAudit() {
  const tenant = $("audit-tenant").value.trim();
  try {
    const result = await api("/api/audit/verify" + (tenant ? `?tenantId=${encodeURIComponent(tenant)}` : ""));
    $("verify-result").textContent = result.ok ? `Verified: ${result.rows} rows in ${result.chains} chain(s), no broken link.`
      : `BROKEN: chain ${result.broken.chain}, row ${result.broken.id} (seq ${result.broken.seq}): ${result.broken.reason}`;
  } catch (error) { handle(error); }
}

async function startConsole() {
  $("subject-form").onsubmit = exportSubject;
  $("erasure-form").onsubmit = erase;
  $("export-form").onsubmit = exportTenant;
  $("audit-form").onsubmit = searchAudit;
  $("audit-verify").onclick = verifyAudit;
  $("receipt").tabIndex = -1;
}
