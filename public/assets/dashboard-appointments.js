// The dashboard's appointments: a week view (Monday to Sunday, in the browser's time) and the
// upcoming list, with cancel (a reason asked for) and reschedule (the API refuses taken slots and
// times outside opening hours, and says so).
"use strict";

const appointmentsState = { weekStart: null, services: new Map(), leads: new Map() };

function mondayOf(date) {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  day.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  return day;
}

async function serviceName(id) {
  if (!appointmentsState.services.size) {
    const page = await api("/api/services");
    for (const service of page.items || []) appointmentsState.services.set(service.id, service.name);
  }
  return appointmentsState.services.get(id) || "Service";
}

async function leadName(id) {
  if (!appointmentsState.leads.has(id)) {
    const lead = await api(`/api/leads/${id}`).catch(() => null);
    appointmentsState.leads.set(id, lead ? (lead.name || lead.phone) : "–");
  }
  return appointmentsState.leads.get(id);
}

function when(date) {
  return date.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

async function changeAppointment(appointment, body) {
  try {
    await api(`/api/appointments/${appointment.id}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    notice("");
    await loadAppointments();
  } catch (error) { handle(error); }
}

function cancelAppointment(appointment) {
  const reason = window.prompt("Why is it cancelled? (kept with the appointment)");
  if (reason === null) return;
  changeAppointment(appointment, { status: "cancelled", cancelReason: reason.trim() || "Cancelled from the dashboard" });
}

function rescheduleAppointment(appointment) {
  const current = new Date(appointment.start);
  const local = new Date(current.getTime() - current.getTimezoneOffset() * 60000).toISOString().slice(0, 16).replace("T", " ");
  const text = window.prompt("New start (YYYY-MM-DD HH:MM, your time)", local);
  if (text === null) return;
  const start = new Date(text.trim().replace(" ", "T"));
  if (Number.isNaN(start.getTime())) { notice("That is not a date and time such as 2026-12-01 09:30."); return; }
  changeAppointment(appointment, { start: start.toISOString() });
}

async function drawWeek() {
  const start = appointmentsState.weekStart;
  const end = new Date(start);
  end.setDate(end.getDate() + 7);
  $("week-title").textContent = `Week of ${start.toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" })}`;
  const page = await api(`/api/appointments?from=${start.toISOString()}&to=${end.toISOString()}&limit=200`);
  const grid = $("week-view");
  grid.replaceChildren();
  for (let offset = 0; offset < 7; offset += 1) {
    const day = new Date(start);
    day.setDate(day.getDate() + offset);
    const column = document.createElement("section");
    column.className = "week-day";
    const heading = document.createElement("h4");
    heading.textContent = day.toLocaleDateString(undefined, { weekday: "short", day: "numeric" });
    const list = document.createElement("ul");
    column.append(heading, list);
    const items = page.items.filter((a) => new Date(a.start).toDateString() === day.toDateString() && a.status !== "cancelled");
    for (const appointment of items) {
      const item = document.createElement("li");
      item.textContent = `${new Date(appointment.start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} ${await serviceName(appointment.serviceId)}`;
      list.append(item);
    }
    if (!items.length) { const empty = document.createElement("li"); empty.className = "hint"; empty.textContent = "–"; list.append(empty); }
    grid.append(column);
  }
}

async function drawUpcoming() {
  const page = await api(`/api/appointments?from=${new Date().toISOString()}&limit=50`);
  const body = $("appointments-table").tBodies[0];
  body.replaceChildren();
  for (const appointment of page.items) {
    const row = body.insertRow();
    row.dataset.id = appointment.id;
    tableCell(row, when(new Date(appointment.start)));
    tableCell(row, await serviceName(appointment.serviceId));
    tableCell(row, await leadName(appointment.leadId));
    tableCell(row, appointment.status);
    const actions = tableCell(row, "");
    actions.textContent = "";
    if (appointment.status === "booked" || appointment.status === "confirmed") {
      for (const [label, className, action] of [["Move", "secondary", rescheduleAppointment], ["Cancel", "danger", cancelAppointment]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = className;
        button.textContent = label;
        button.setAttribute("aria-label", `${label} the ${when(new Date(appointment.start))} appointment`);
        button.addEventListener("click", () => action(appointment));
        actions.append(button, " ");
      }
    }
  }
  if (!page.items.length) tableCell(body.insertRow(), "No upcoming appointments.").colSpan = 5;
}

async function loadAppointments() {
  if (!appointmentsState.weekStart) appointmentsState.weekStart = mondayOf(new Date());
  await Promise.all([drawWeek(), drawUpcoming()]);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const [id, days] of [["week-prev", -7], ["week-next", 7]]) {
    $(id).addEventListener("click", () => {
      appointmentsState.weekStart.setDate(appointmentsState.weekStart.getDate() + days);
      drawWeek().catch(handle);
    });
  }
});
