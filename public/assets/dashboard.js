// The client dashboard: signs in (access token in memory, refresh token in an httpOnly cookie),
// shows today's and this week's figures with week-over-week change, draws the daily trend and
// the outcome breakdown as SVG, and keeps a live feed from the event stream. It only calls the
// documented API. Nothing secret is ever put in localStorage.
"use strict";

const state = { stream: null, lastEventId: null, retryTimer: null };
const SVG = "http://www.w3.org/2000/svg";

function show(section) {
  for (const id of ["sign-in", "overview"]) $(id).hidden = id !== section;
}

function handle(error) {
  if (!(error instanceof ApiError)) { notice("Something went wrong: " + error.message); return; }
  if (error.status === 401) { signOutLocally("Your session has ended. Please sign in again."); return; }
  if (error.status === 403) { notice("Not allowed: " + error.message); return; }
  if (error.status === 429) {
    const wait = error.retryAfter || 60;
    notice(`Too many requests. Retrying in ${wait} seconds.`);
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => { notice(""); loadFigures().catch(handle); }, wait * 1000);
    return;
  }
  if (error.status === 0) {
    notice(error.message);
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => { notice(""); loadFigures().catch(handle); }, 5000);
    return;
  }
  notice(error.message);
}

// --- Sign-in --------------------------------------------------------------------------------

async function useKey(event) {
  event.preventDefault();
  Session.apiKey = $("api-key").value.trim();
  $("api-key").value = "";
  try { await start(); } catch (error) { Session.apiKey = null; handle(error); }
}

function signOutLocally(message) {
  if (state.stream) state.stream.close();
  state.stream = null;
  Session.forget();
  show("sign-in");
  notice(message || "");
  $("email").focus();
}

async function logout() {
  await Session.logout();
  signOutLocally("You are signed out.");
}

// --- Figures and charts ---------------------------------------------------------------------

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function money(value) {
  if (!value) return "–";
  return new Intl.NumberFormat(undefined, { style: "currency", currency: value.currency }).format(value.amount / 100);
}

function figure(container, label, value, change) {
  const card = figureCard(label, value);
  if (change != null) {
    const delta = document.createElement("p");
    delta.className = "figure-change " + (change > 0 ? "up" : change < 0 ? "down" : "");
    delta.textContent = `${change > 0 ? "▲" : change < 0 ? "▼" : "■"} ${Math.abs(change).toFixed(1)}% vs last week`;
    card.append(delta);
  }
  container.append(card);
}

function formatFigure(item, currency) {
  if (item.current == null) return "–";
  if (item.unit === "percent") return item.current.toFixed(1) + "%";
  if (item.unit === "money") return money({ amount: item.current, currency });
  if (item.unit === "seconds") return item.current >= 60 ? `${Math.floor(item.current / 60)}m ${Math.round(item.current % 60)}s` : `${Math.round(item.current)}s`;
  return String(item.current);
}

async function loadFigures() {
  const today = isoDay(new Date());
  const from = isoDay(new Date(Date.now() - 13 * 86400000));
  const [summaryToday, range, weekly] = await Promise.all([
    api(`/api/analytics/summary?from=${today}&to=${today}`),
    api(`/api/analytics/summary?from=${from}&to=${today}`),
    api("/api/analytics/weekly"),
  ]);
  const todayBox = $("today");
  todayBox.replaceChildren();
  const booked = (summaryToday.byOutcome.find((o) => o.outcome === "booked") || { count: 0 }).count;
  figure(todayBox, "Calls", String(summaryToday.totalCalls));
  figure(todayBox, "Bookings", String(booked));
  figure(todayBox, "Conversion", summaryToday.conversionRate == null ? "–" : summaryToday.conversionRate.toFixed(1) + "%");
  figure(todayBox, "Cost per booking", money(summaryToday.costPerBooking));

  const weekBox = $("week");
  weekBox.replaceChildren();
  $("week-range").textContent = `${weekly.week.from} to ${weekly.week.to}`;
  for (const item of weekly.figures) figure(weekBox, item.label, formatFigure(item, weekly.currency), item.changePercent);
  drawTrend(range.daily);
  drawOutcomes(range.byOutcome);
}

function svg(width, height, label) {
  const root = document.createElementNS(SVG, "svg");
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.setAttribute("role", "img");
  root.setAttribute("aria-label", label);
  return root;
}

function shape(kind, attributes, text) {
  const node = document.createElementNS(SVG, kind);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawTrend(days) {
  const width = 560, height = 200, left = 30, bottom = 24, top = 10;
  const max = Math.max(1, ...days.map((d) => d.calls));
  const step = (width - left) / Math.max(1, days.length);
  const total = days.reduce((sum, d) => sum + d.calls, 0);
  const chart = svg(width, height, `Calls per day, ${total} in ${days.length} days`);
  chart.append(shape("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
  chart.append(shape("text", { x: 0, y: top + 10, class: "tick" }, String(max)));
  days.forEach((day, index) => {
    const x = left + index * step + step * 0.15;
    const barWidth = step * 0.7;
    const callsHeight = (day.calls / max) * (height - bottom - top);
    const bookedHeight = (day.booked / max) * (height - bottom - top);
    const calls = shape("rect", { x, y: height - bottom - callsHeight, width: barWidth, height: callsHeight, class: "bar calls" });
    calls.append(shape("title", {}, `${day.date}: ${day.calls} calls, ${day.booked} booked`));
    chart.append(calls, shape("rect", { x, y: height - bottom - bookedHeight, width: barWidth, height: bookedHeight, class: "bar booked" }));
    if (index % 2 === 0) chart.append(shape("text", { x, y: height - 6, class: "tick" }, day.date.slice(5)));
  });
  $("trend-chart").replaceChildren(chart);
}

function drawOutcomes(outcomes) {
  const rows = outcomes.filter((o) => o.count > 0);
  const width = 560, rowHeight = 26, height = Math.max(1, rows.length) * rowHeight + 4;
  const chart = svg(width, height, "Call outcomes: " + (rows.map((o) => `${o.outcome} ${o.count}`).join(", ") || "no calls yet"));
  const max = Math.max(1, ...rows.map((o) => o.count));
  if (!rows.length) chart.append(shape("text", { x: 0, y: 18, class: "tick" }, "No calls in this period yet."));
  rows.forEach((row, index) => {
    const y = index * rowHeight + 2;
    chart.append(shape("text", { x: 0, y: y + 16, class: "tick" }, row.outcome.replace("_", " ")));
    chart.append(shape("rect", { x: 120, y, width: ((width - 180) * row.count) / max, height: rowHeight - 8, class: "bar calls" }));
    chart.append(shape("text", { x: 126 + ((width - 180) * row.count) / max, y: y + 14, class: "tick" }, `${row.count} (${row.percent ?? 0}%)`));
  });
  $("outcome-chart").replaceChildren(chart);
}

// --- Live feed ------------------------------------------------------------------------------

const EVENT_TYPES = ["call_started", "call_ended", "appointment_booked", "appointment_cancelled", "appointment_confirmed",
  "appointment_rescheduled", "lead_created", "lead_status_changed", "lead_opted_out", "message_status_changed",
  "lead_replied", "leads_imported", "call_task_created"];
const REFRESHING = new Set(["call_ended", "appointment_booked", "appointment_cancelled"]);
let figuresTimer = null;

function describe(type, data) {
  const payload = data.payload || {};
  switch (type) {
    case "call_ended": return `Call ended${payload.outcome ? ": " + payload.outcome.replace("_", " ") : ""}`;
    case "call_started": return "Call started";
    case "appointment_booked": return "Appointment booked";
    case "appointment_cancelled": return "Appointment cancelled";
    case "lead_created": return "New lead";
    case "lead_status_changed": return `Lead moved ${payload.from || ""} → ${payload.to || ""}`;
    case "lead_opted_out": return "Lead opted out";
    case "message_status_changed": return `Message ${payload.status || "updated"}`;
    default: return type.replace(/_/g, " ");
  }
}

function addToFeed(type, data) {
  const item = document.createElement("li");
  item.dataset.type = type;
  const time = document.createElement("time");
  time.dateTime = data.createdAt;
  time.textContent = new Date(data.createdAt).toLocaleTimeString();
  const text = document.createElement("span");
  text.textContent = describe(type, data);
  item.append(time, " ", text);
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > 50) feed.lastChild.remove();
  $("feed-empty").hidden = true;
  if (REFRESHING.has(type)) {
    clearTimeout(figuresTimer);
    figuresTimer = setTimeout(() => loadFigures().catch(handle), 500);
  }
}

function setLive(text, live) {
  const status = $("live-status");
  status.textContent = text;
  status.classList.toggle("on", live);
}

async function connectStream() {
  if (state.stream) state.stream.close();
  let ticket;
  try {
    ticket = await api("/api/events/stream-token", { method: "POST" });
  } catch (error) {
    setLive("Offline: reconnecting…", false);
    if (error.status === 401) { handle(error); return; }
    setTimeout(connectStream, 5000);
    return;
  }
  const url = ticket.streamUrl + (state.lastEventId ? `&after=${encodeURIComponent(state.lastEventId)}` : "");
  const stream = new EventSource(url);
  state.stream = stream;
  stream.onopen = () => setLive("Live", true);
  stream.onerror = () => {
    setLive("Reconnecting…", false);
    // The browser retries by itself; once it gives up (the token only opens a stream for a
    // minute), ask for a new token and resume after the last event seen.
    if (stream.readyState === EventSource.CLOSED && state.stream === stream) setTimeout(connectStream, 2000);
  };
  for (const type of EVENT_TYPES) {
    stream.addEventListener(type, (event) => {
      state.lastEventId = event.lastEventId || state.lastEventId;
      try { addToFeed(type, JSON.parse(event.data)); } catch (_) { /* ignore a malformed frame */ }
    });
  }
}

// --- Start ----------------------------------------------------------------------------------

async function start(options = {}) {
  const me = await api("/api/me");
  $("business-name").textContent = (me.tenant && (me.tenant.businessName || me.tenant.slug)) || "Your business";
  show("overview");
  notice("");
  showAccountState(me);
  loadWorkspaces(me).catch(() => { $("workspace-field").hidden = true; });
  if (me.account && me.account.mfaEnrolmentRequired) {
    // The tenant requires a second factor: only the account panel answers until it is set up.
    showTab("account-panel");
    notice("This business requires two-step verification: set it up below to open the rest of the dashboard.");
    return;
  }
  if (!options.keepTab) showTab("overview-panel");
  await loadFigures().catch(handle);
  connectStream();
}

document.addEventListener("DOMContentLoaded", async () => {
  wireSignIn(start, handle);
  $("key-form").addEventListener("submit", useKey);
  $("logout").addEventListener("click", logout);
  window.addEventListener("online", () => { notice(""); if (Session.token || Session.apiKey) connectStream(); });
  window.addEventListener("offline", () => setLive("Offline: waiting for the network…", false));
  try {
    if (await Session.refresh()) { await start(); return; }
  } catch (_) { /* not signed in */ }
  show("sign-in");
});
