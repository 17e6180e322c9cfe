// Settings > Users: owners and admins invite people by email (or add them with a generated
// password shown once), resend or revoke invitations, change roles and remove people. Members, viewers and API keys cannot; for them the section stays
// hidden. The server decides who may change whom (only owners touch owners).
"use strict";

async function loadUsers() {
  const page = await api("/api/users");
  $("users-table").closest(".table-wrap").hidden = false;
  $("user-form").hidden = false;
  const body = $("users-table").tBodies[0];
  body.replaceChildren();
  for (const user of page.items) {
    const row = body.insertRow();
    row.dataset.id = user.id;
    tableCell(row, user.email);
    const roleCell = tableCell(row, "");
    roleCell.textContent = "";
    const role = document.createElement("select");
    role.setAttribute("aria-label", `Role of ${user.email}`);
    for (const option of ["owner", "admin", "member", "viewer"]) role.append(new Option(option, option, false, option === user.role));
    role.addEventListener("change", async () => {
      try {
        await api(`/api/users/${user.id}`, { method: "PATCH", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ role: role.value }) });
      } catch (error) { handle(error); }
      await loadUsers().catch(handle);
    });
    roleCell.append(role);
    tableCell(row, user.lastLoginAt ? new Date(user.lastLoginAt).toLocaleString() : "never");
    const actions = tableCell(row, "");
    actions.textContent = "";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${user.email}`);
    remove.addEventListener("click", async () => {
      if (!window.confirm(`Remove ${user.email}? They are signed out at once.`)) return;
      try {
        await api(`/api/users/${user.id}`, { method: "DELETE" });
        await loadUsers();
      } catch (error) { handle(error); }
    });
    actions.append(remove);
  }
  await loadInvitations();
}

function invitationButton(label, name, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = label;
  button.setAttribute("aria-label", `${label} the invitation of ${name}`);
  button.addEventListener("click", async () => {
    try { await action(); await loadInvitations(); } catch (error) { handle(error); }
  });
  return button;
}

async function loadInvitations() {
  const page = await api("/api/invitations");
  $("invite-form").hidden = false;
  $("invitations-table").closest(".table-wrap").hidden = page.items.length === 0;
  const body = $("invitations-table").tBodies[0];
  body.replaceChildren();
  for (const invitation of page.items) {
    const row = body.insertRow();
    row.dataset.id = invitation.id;
    tableCell(row, invitation.email);
    tableCell(row, invitation.role);
    tableCell(row, invitation.status);
    tableCell(row, invitation.status === "accepted" ? "" : new Date(invitation.expiresAt).toLocaleString());
    const actions = tableCell(row, "");
    actions.textContent = "";
    if (invitation.status === "pending" || invitation.status === "expired") {
      actions.append(invitationButton("Resend", invitation.email, async () => {
        await api(`/api/invitations/${invitation.id}/resend`, { method: "POST" });
        $("invite-sent").textContent = `A new link is on its way to ${invitation.email}.`;
      }));
      actions.append(" ", invitationButton("Revoke", invitation.email,
        () => api(`/api/invitations/${invitation.id}`, { method: "DELETE" })));
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("invite-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("invite-sent").textContent = "";
    try {
      const invitation = await api("/api/invitations", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: $("invite-email").value.trim(), role: $("invite-role").value }) });
      $("invite-sent").textContent = `Invitation sent to ${invitation.email}.`;
      $("invite-email").value = "";
      await loadInvitations();
    } catch (error) { handle(error); }
  });
  $("user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const user = await api("/api/users", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: $("user-email").value.trim(), role: $("user-role").value }) });
      $("new-user-password").textContent = user.temporaryPassword || "";
      $("new-user").hidden = !user.temporaryPassword;
      $("user-email").value = "";
      await loadUsers();
    } catch (error) { handle(error); }
  });
});
