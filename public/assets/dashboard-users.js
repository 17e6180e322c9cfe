// Settings > Users: owners and admins add people (a generated password shown once), change
// their roles and remove them. Members, viewers and API keys cannot; for them the section stays
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
}

document.addEventListener("DOMContentLoaded", () => {
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
