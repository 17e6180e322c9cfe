// The dashboard's lead detail (calls, messages, appointments, status change, opt-out), message
// log, and settings (profile, messaging credentials shown only as "configured ••••1234", audit).
"use strict";

function detailList(pairs) {
  const list = document.createElement("dl");
  list.className = "review";
  for (const [label, value] of pairs) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = value == null || value === "" ? "–" : String(value);
    list.append(dt, dd);
  }
  return list;
}

function heading(level, text) {
  const node = document.createElement(`h${level}`);
  node.textContent = text;
  return node;
}

function bulletList(items, empty) {
  const list = document.createElement("ul");
  for (const text of items.length ? items : [empty]) {
    const item = document.createElement("li");
    item.textContent = text;
    list.append(item);
  }
  return list;
}

async function showLead(id) {
  const [lead, calls, messages, appointments] = await Promise.all([
    api(`/api/leads/${id}`),
    api(`/api/calls?leadId=${id}&limit=20`).catch(() => ({ items: [] })),
    api(`/api/messages?leadId=${id}&limit=20`).catch(() => ({ items: [] })),
    api(`/api/appointments?leadId=${id}&limit=20`).catch(() => ({ items: [] })),
  ]);
  const box = $("lead-detail");
  box.replaceChildren(heading(3, lead.name || lead.phone), detailList([
    ["Phone", `${lead.phone} (${lead.phoneType})`], ["Email", lead.email], ["Status", lead.status], ["Source", lead.source],
    ["Tags", (lead.tags || []).join(", ")], ["Notes", lead.notes],
    ["Last contacted", lead.lastContactedAt && new Date(lead.lastContactedAt).toLocaleString()],
  ]));

  const form = document.createElement("form");
  form.className = "inline-form";
  const field = document.createElement("div");
  field.className = "field";
  const label = document.createElement("label");
  label.htmlFor = "lead-new-status";
  label.textContent = "Change status";
  const select = document.createElement("select");
  select.id = "lead-new-status";
  for (const status of ["new", "contacted", "interested", "callback", "booked", "not_interested", "invalid"]) {
    select.append(new Option(status.replace("_", " "), status, false, status === lead.status));
  }
  field.append(label, select);
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save status";
  const optOut = document.createElement("button");
  optOut.type = "button";
  optOut.className = "danger";
  optOut.textContent = "Opt out";
  optOut.disabled = lead.status === "opted_out";
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(save, " ", optOut);
  form.append(field, actions);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/leads/${id}/status`, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ status: select.value, reason: "changed in the dashboard" }) });
      await Promise.all([showLead(id), loadLeads(true)]);
    } catch (error) { handle(error); }
  });
  optOut.addEventListener("click", async () => {
    if (!window.confirm(`Opt ${lead.phone} out? No more messages will be sent to this number.`)) return;
    try {
      await api("/api/opt-outs", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: lead.phone, reason: "request", source: "dashboard" }) });
      await Promise.all([showLead(id), loadLeads(true)]);
    } catch (error) { handle(error); }
  });
  box.append(form,
    heading(4, "Calls"), bulletList(calls.items.map((c) => `${new Date(c.startedAt).toLocaleString()}: ${c.outcome || c.state}${c.durationSeconds ? `, ${c.durationSeconds} s` : ""}`), "No calls."),
    heading(4, "Messages"), bulletList(messages.items.map((m) => `${new Date(m.createdAt).toLocaleString()}: ${m.channel} ${m.status}`), "No messages."),
    heading(4, "Appointments"), bulletList(appointments.items.map((a) => `${new Date(a.start).toLocaleString()}: ${a.status}`), "No appointments."));
  box.hidden = false;
  box.focus();
}

async function loadMessages() {
  const query = new URLSearchParams({ limit: "50" });
  if ($("message-channel").value) query.set("channel", $("message-channel").value);
  if ($("message-status").value) query.set("status", $("message-status").value);
  const page = await api("/api/messages?" + query);
  const body = $("messages-table").tBodies[0];
  body.replaceChildren();
  for (const message of page.items) {
    const row = body.insertRow();
    tableCell(row, new Date(message.createdAt).toLocaleString());
    tableCell(row, message.channel);
    tableCell(row, message.direction === "inbound" ? `from ${message.from}` : message.to);
    tableCell(row, message.reason ? `${message.status} (${message.reason})` : message.status);
    tableCell(row, message.subject || (message.body || "").slice(0, 80));
  }
  if (!page.items.length) tableCell(body.insertRow(), "No messages yet.").colSpan = 5;
}

function secretState(secret) {
  return secret && secret.configured ? `Configured ••••${secret.last4 || ""}. Leave empty to keep it.` : "Not set.";
}

async function loadMessaging() {
  const messaging = await api("/api/settings/messaging");
  $("twilio-sid").value = messaging.twilioAccountSid || "";
  $("twilio-from").value = messaging.twilioFromNumber || "";
  $("email-from").value = messaging.emailFrom || "";
  $("twilio-token").value = "";
  $("smtp-url").value = "";
  $("twilio-token-state").textContent = secretState(messaging.twilioAuthToken);
  $("smtp-url-state").textContent = secretState(messaging.smtpUrl);
}

async function loadSettings() {
  loadSchedule().catch(handle);
  loadMessaging().catch(handle);
  loadUsers().catch(() => { $("users-table").closest(".table-wrap").hidden = true; $("user-form").hidden = true; });
  const [tenant, audit] = await Promise.all([api("/api/tenant"), api("/api/audit?limit=50").catch(() => ({ items: [] }))]);
  $("profile-name").value = tenant.businessName;
  $("profile-timezone").value = tenant.timezone;
  const body = $("owner-audit-table").tBodies[0];
  body.replaceChildren();
  for (const entry of audit.items) {
    const row = body.insertRow();
    tableCell(row, new Date(entry.createdAt).toLocaleString());
    tableCell(row, entry.action);
    tableCell(row, entry.actorType);
    tableCell(row, Object.entries(entry.details).map(([k, v]) => `${k}=${v}`).join(" "));
  }
}

/// Saves one setting and reloads only its own section (`reload`), to keep well inside the
/// tier's request budget. Returns the saved resource, or nothing when saving failed.
async function save(path, method, body, message, reload) {
  try {
    const saved = await api(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    $("settings-saved").textContent = message;
    if (reload) await reload();
    return saved;
  } catch (error) { handle(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("message-filter").addEventListener("submit", (event) => { event.preventDefault(); loadMessages().catch(handle); });
  $("profile-form").addEventListener("submit", (event) => {
    event.preventDefault();
    save("/api/tenant", "PATCH", { businessName: $("profile-name").value.trim(), timezone: $("profile-timezone").value.trim() }, "Profile saved.",
      async () => { $("business-name").textContent = $("profile-name").value.trim(); });
  });
  $("messaging-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {};
    for (const [field, id] of [["twilioAccountSid", "twilio-sid"], ["twilioFromNumber", "twilio-from"], ["emailFrom", "email-from"],
      ["twilioAuthToken", "twilio-token"], ["smtpUrl", "smtp-url"]]) {
      const value = $(id).value.trim();
      // Write-only secrets: an empty box keeps the stored one.
      if (value || !["twilio-token", "smtp-url"].includes(id)) body[field] = value;
    }
    save("/api/settings/messaging", "PUT", body, "Messaging settings saved.", loadMessaging);
  });
});
