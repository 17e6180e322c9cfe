// The admin console: system health, tenants (suspend, reactivate, re-tier, delete with a typed
// confirmation, restore), jobs and error stats. Only the documented API.
"use strict";

const admin = { cursor: null };

function systemFigure(label, value) {
  $("system").append(figureCard(label, value));
}

async function loadSystem() {
  const health = await fetch("/health").then((r) => r.json()).catch(() => ({ status: "unreachable" }));
  const jobs = await api("/api/admin/jobs");
  const errors = await api("/api/error-stats?hours=24");
  $("system").replaceChildren();
  systemFigure("Health", health.status);
  systemFigure("Database", health.database ? `${health.database.engine} ${health.database.status}` : "–");
  systemFigure("Oldest due job", `${jobs.oldestPendingAgeSeconds} s`);
  systemFigure("Errors (24 h)", String(errors.total));
  const jobBody = $("jobs-table").tBodies[0];
  jobBody.replaceChildren();
  for (const count of jobs.counts) {
    const row = document.createElement("tr");
    tableCell(row, count.kind); tableCell(row, count.status); tableCell(row, count.count);
    jobBody.append(row);
  }
  const errorBody = $("errors-table").tBodies[0];
  errorBody.replaceChildren();
  for (const type of errors.topErrorTypes) {
    const row = document.createElement("tr");
    tableCell(row, type.errorType); tableCell(row, type.count);
    errorBody.append(row);
  }
}

function counted(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function actionButton(label, className, onClick, name) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.textContent = label;
  button.setAttribute("aria-label", `${label} ${name}`);
  button.addEventListener("click", onClick);
  return button;
}

async function change(tenant, method, path, body, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  try {
    await api(path, { method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
    notice("");
    await loadTenants(true);
  } catch (error) { handle(error); }
}

async function remove(tenant) {
  const typed = window.prompt(`Delete ${tenant.businessName}? Its credentials stop at once and its data is purged after the grace period. Type the slug "${tenant.slug}" to confirm.`);
  if (typed === null) return;
  if (typed.trim() !== tenant.slug) { notice("The slug did not match; nothing was deleted."); return; }
  await change(tenant, "DELETE", `/api/admin/tenants/${tenant.id}?reason=${encodeURIComponent("deleted from the admin console")}`);
}

async function showDetail(tenant) {
  try {
    const detail = await api(`/api/admin/tenants/${tenant.id}`);
    const box = $("tenant-detail");
    box.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = detail.tenant.businessName;
    const list = document.createElement("dl");
    list.className = "review";
    for (const [label, value] of [["Id", detail.tenant.id], ["Status", detail.tenant.status], ["Tier", detail.tenant.tier],
      ["Time zone", detail.tenant.timezone], ["Users", detail.users], ["Active API keys", detail.activeApiKeys],
      ["Rate limit override", detail.tenant.rateLimitPerMinute ?? "tier default"], ["Leads", detail.usage.leads],
      ["Calls (30 days)", detail.usage.callsLast30Days], ["Messages (30 days)", detail.usage.messagesLast30Days],
      ["Upcoming appointments", detail.usage.appointmentsUpcoming],
      ["Last activity", detail.lastActivityAt ? new Date(detail.lastActivityAt).toLocaleString() : "never"]]) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = String(value);
      list.append(dt, dd);
    }
    box.append(title, list);
    box.hidden = false;
  } catch (error) { handle(error); }
}

async function loadTenants(reset) {
  if (reset) admin.cursor = null;
  const query = new URLSearchParams({ limit: "50" });
  if ($("filter-status").value) query.set("status", $("filter-status").value);
  if (admin.cursor) query.set("cursor", admin.cursor);
  const page = await api("/api/admin/tenants?" + query);
  const body = $("tenants-table").tBodies[0];
  if (reset) body.replaceChildren();
  for (const tenant of page.items) {
    const row = document.createElement("tr");
    row.dataset.id = tenant.id;
    row.dataset.slug = tenant.slug;
    const name = tableCell(row, "");
    name.textContent = "";
    const link = actionButton(tenant.businessName, "link", () => showDetail(tenant), "details of");
    link.setAttribute("aria-label", `Details of ${tenant.businessName}`);
    name.append(link);
    tableCell(row, tenant.slug); tableCell(row, tenant.status);
    const tierCell = tableCell(row, "");
    tierCell.textContent = "";
    const tier = document.createElement("select");
    tier.setAttribute("aria-label", `Tier of ${tenant.businessName}`);
    for (const option of ["free", "pro", "enterprise"]) tier.append(new Option(option, option, false, option === tenant.tier));
    tier.disabled = tenant.status === "deleted";
    tier.addEventListener("change", () => change(tenant, "PATCH", `/api/admin/tenants/${tenant.id}`, { tier: tier.value }));
    tierCell.append(tier);
    const usage = tenant.usage;
    tableCell(row, [counted(usage.leads, "lead"), counted(usage.callsLast30Days, "call"),
      counted(usage.messagesLast30Days, "message")].join(", "));
    tableCell(row, tenant.lastActivityAt ? new Date(tenant.lastActivityAt).toLocaleString() : "never");
    const actions = tableCell(row, "");
    actions.textContent = "";
    if (tenant.status === "active") {
      actions.append(actionButton("Suspend", "danger", () => change(tenant, "PATCH", `/api/admin/tenants/${tenant.id}`, { status: "suspended" },
        `Suspend ${tenant.businessName}? Its keys and logins are refused until reactivated.`), tenant.businessName));
    } else if (tenant.status === "suspended") {
      actions.append(actionButton("Reactivate", "secondary", () => change(tenant, "PATCH", `/api/admin/tenants/${tenant.id}`, { status: "active" }), tenant.businessName));
    }
    if (tenant.status === "deleted") {
      actions.append(actionButton("Restore", "secondary", () => change(tenant, "POST", `/api/admin/tenants/${tenant.id}/restore`), tenant.businessName));
    } else {
      actions.append(" ", actionButton("Delete", "danger", () => remove(tenant), tenant.businessName));
    }
    body.append(row);
  }
  admin.cursor = page.nextCursor || null;
  $("tenants-more").hidden = !admin.cursor;
}

async function startConsole() {
  $("tenant-filter").onsubmit = (event) => { event.preventDefault(); loadTenants(true).catch(handle); };
  $("tenants-more").onclick = () => loadTenants(false).catch(handle);
  await Promise.all([loadTenants(true), loadSystem()]).catch(handle);
}
