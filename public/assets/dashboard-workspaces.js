// The workspace menu: a login that belongs to several businesses picks which one the
// dashboard shows. Switching trades the session for one in the chosen tenant (the server ends
// the old one and sets the new refresh cookie), then the dashboard starts again there.
"use strict";

async function loadWorkspaces(me) {
  const field = $("workspace-field");
  field.hidden = true;
  if (!me.principal || me.principal.type !== "user" || !me.tenant) return;
  const page = await api("/api/me/workspaces");
  if (page.items.length < 2) return;
  const select = $("workspace-select");
  select.replaceChildren(...page.items.map((workspace) => new Option(
    `${workspace.businessName} (${workspace.role})`, workspace.tenantId, false, workspace.current)));
  field.hidden = false;
}

async function switchWorkspace(tenantId) {
  const tokens = await api("/api/auth/switch", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tenantId, session: "cookie" }) });
  Session.accept(tokens);
  state.lastEventId = null;  // event ids count per tenant
  await start();
}

document.addEventListener("DOMContentLoaded", () => {
  $("workspace-select").addEventListener("change", (event) => {
    switchWorkspace(event.target.value).catch(handle);
  });
});
