// Settings for the schedule and the voice assistant: weekly opening hours (one box per day),
// services (add; make bookable or not), and the voice webhook (secret write-only).
"use strict";

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
let savedHours = null;

async function loadSchedule() {
  await Promise.all([loadHours(), loadServices(), loadVoice(), loadCalendar()]);
}

async function loadCalendar() {
  const calendar = await api("/api/settings/calendar").catch(() => null);
  if (!calendar) return;
  $("calendar-id").value = calendar.calendarId || "";
  $("calendar-key").value = "";
  $("calendar-state").textContent = calendar.configured
    ? `Connected to ${calendar.calendarId} as ${calendar.clientEmail}.` : "Not connected: bookings are only recorded here.";
}

async function loadHours() {
  const hours = await api("/api/settings/hours");
  savedHours = hours;
  renderClosed(hours.closed || []);
  const days = $("hours-days");
  days.replaceChildren();
  for (const day of WEEKDAYS) {
    const field = document.createElement("div");
    field.className = "field";
    const label = document.createElement("label");
    label.htmlFor = `hours-${day}`;
    label.textContent = day[0].toUpperCase() + day.slice(1);
    const input = document.createElement("input");
    input.id = `hours-${day}`;
    input.setAttribute("aria-describedby", "hours-hint");
    input.value = (hours.weekly[day] || []).map((i) => `${i.opens}-${i.closes}`).join(", ");
    field.append(label, input);
    days.append(field);
  }
  $("slot-step").value = hours.slotStepMinutes || 15;
}

function renderClosed(closed) {
  const body = $("closed-table").tBodies[0];
  body.replaceChildren();
  if (closed.length === 0) {
    tableCell(body.insertRow(), "No closed dates.").colSpan = 3;
    return;
  }
  for (const day of [...closed].sort((a, b) => a.date.localeCompare(b.date))) {
    const row = body.insertRow();
    tableCell(row, day.date);
    tableCell(row, day.reason || "");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Remove";
    button.setAttribute("aria-label", `Remove closed date ${day.date}`);
    button.addEventListener("click", () => saveClosed(closed.filter((other) => other.date !== day.date),
      `${day.date} is open again.`));
    tableCell(row, "").replaceChildren(button);
  }
}

// Closed dates save at once, with the weekly hours as last saved (not half-edited boxes).
async function saveClosed(closed, message) {
  const body = { weekly: savedHours.weekly, closed, slotStepMinutes: savedHours.slotStepMinutes };
  const saved = await save("/api/settings/hours", "PUT", body, message);
  if (saved) { savedHours = saved; renderClosed(saved.closed || []); }
  return saved;
}

async function loadServices() {
  const services = await api("/api/services");
  const body = $("services-table").tBodies[0];
  body.replaceChildren();
  for (const service of services.items) {
    const row = body.insertRow();
    tableCell(row, service.name);
    tableCell(row, service.durationMinutes);
    tableCell(row, (service.price / 100).toFixed(2));
    const cell = tableCell(row, "");
    cell.textContent = "";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = service.active;
    box.setAttribute("aria-label", `${service.name} can be booked`);
    box.addEventListener("change", () => save(`/api/services/${service.id}`, "PATCH", { active: box.checked },
      `${service.name} is ${box.checked ? "bookable" : "no longer bookable"}.`, loadServices));
    cell.append(box);
  }
}

async function loadVoice() {
  const voice = await api("/api/settings/calls").catch(() => null);
  if (voice) {
    $("voice-url").value = voice.webhookUrl;
    $("voice-secret").value = "";
    $("voice-secret-state").textContent = secretState(voice.webhookSecret);
    $("deal-value").value = voice.averageDealValue;
  }
}

function parseHours() {
  const weekly = {};
  for (const day of WEEKDAYS) {
    const text = $(`hours-${day}`).value.trim();
    weekly[day] = text ? text.split(",").map((part) => {
      const [opens, closes] = part.split("-").map((t) => t.trim());
      return { opens, closes };
    }) : [];
  }
  return weekly;
}

document.addEventListener("DOMContentLoaded", () => {
  $("hours-form").addEventListener("submit", (event) => {
    event.preventDefault();
    save("/api/settings/hours", "PUT", { weekly: parseHours(), closed: savedHours.closed || [], slotStepMinutes: Number($("slot-step").value) },
      "Opening hours saved.", loadHours);
  });
  $("closed-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const date = $("closed-date").value;
    const reason = $("closed-reason").value.trim();
    const closed = (savedHours.closed || []).filter((day) => day.date !== date);
    closed.push(reason ? { date, reason } : { date });
    saveClosed(closed, `Closed on ${date}.`).then((saved) => {
      if (saved) { $("closed-date").value = ""; $("closed-reason").value = ""; }
    });
  });
  $("service-form").addEventListener("submit", (event) => {
    event.preventDefault();
    save("/api/services", "POST", { name: $("service-name").value.trim(), durationMinutes: Number($("service-minutes").value),
      price: Number($("service-price").value) }, "Service added.", loadServices).then(() => { $("service-name").value = ""; });
  });
  $("calendar-form").addEventListener("submit", (event) => {
    event.preventDefault();
    let serviceAccount;
    try { serviceAccount = JSON.parse($("calendar-key").value); } catch (_) {
      notice("The service account key must be the JSON file Google gave you."); return;
    }
    save("/api/settings/calendar", "PUT", { calendarId: $("calendar-id").value.trim(), serviceAccount }, "Calendar connected.", loadCalendar);
  });
  $("voice-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { averageDealValue: Number($("deal-value").value) };
    if ($("voice-secret").value.trim()) body.webhookSecret = $("voice-secret").value.trim();
    save("/api/settings/calls", "PUT", body, "Voice settings saved.", loadVoice);
  });
});
