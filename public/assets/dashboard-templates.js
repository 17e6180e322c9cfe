// The template editor: edit a template's parts, preview them rendered (the server checks them
// as it would on save), save, or reset to the platform default. Errors are shown by field.
"use strict";

const PARTS = ["sms", "emailSubject", "emailText", "emailHtml"];
let templatesLoaded = false;

function clearTemplateErrors() {
  for (const part of PARTS) {
    $(`template-${part}-error`).textContent = "";
    $(`template-${part}`).removeAttribute("aria-invalid");
  }
}

/// 422 answers name each field: show each message under its part.
function showTemplateErrors(error) {
  if (!(error instanceof ApiError) || error.status !== 422 || !error.fields) { handle(error); return; }
  for (const { field, message } of error.fields) {
    if (!PARTS.includes(field)) { notice(message); continue; }
    $(`template-${field}-error`).textContent = message;
    $(`template-${field}`).setAttribute("aria-invalid", "true");
  }
}

async function templateRequest(path, method, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + (Session.token || Session.apiKey) },
    body: body ? JSON.stringify(body) : undefined,
  }).catch(() => { throw new ApiError(0, "Network problem: check your connection."); });
  if (response.status === 422) {
    const problem = await response.json();
    const error = new ApiError(422, problem.detail);
    error.fields = problem.errors || [];
    throw error;
  }
  if (!response.ok && response.status !== 204) {
    const problem = await response.json().catch(() => ({}));
    throw new ApiError(response.status, problem.detail || response.statusText, Number(response.headers.get("Retry-After")) || null);
  }
  return response.status === 204 ? null : response.json();
}

async function loadTemplates() {
  if (!templatesLoaded) {
    const list = await api("/api/templates");
    $("template-name").replaceChildren(...list.items.map((t) => new Option(`${t.name}${t.overridden ? " (customised)" : ""}`, t.name)));
    templatesLoaded = true;
  }
  await showTemplate();
}

async function showTemplate() {
  clearTemplateErrors();
  $("template-output").hidden = true;
  const template = await api(`/api/templates/${encodeURIComponent($("template-name").value)}`);
  $("template-variables").textContent = `${template.description} Variables: ${template.variables.map((v) => `{{${v}}}`).join(" ")}`;
  for (const part of PARTS) $(`template-${part}`).value = template[part] || "";
}

function editedParts() {
  const parts = {};
  for (const part of PARTS) if ($(`template-${part}`).value.trim()) parts[part] = $(`template-${part}`).value;
  return parts;
}

async function previewTemplate() {
  clearTemplateErrors();
  try {
    const preview = await templateRequest(`/api/templates/${encodeURIComponent($("template-name").value)}/preview`, "POST", editedParts());
    const box = $("template-output");
    box.replaceChildren();
    for (const [label, value] of [["SMS", preview.sms ? `${preview.sms}  (${preview.smsSegments} segment${preview.smsSegments === 1 ? "" : "s"})` : null],
      ["Email subject", preview.emailSubject], ["Email text", preview.emailText], ["Email HTML (source)", preview.emailHtml]]) {
      if (value == null) continue;
      const title = document.createElement("h4"); title.textContent = label;
      const text = document.createElement("pre"); text.className = "preview"; text.textContent = value;
      box.append(title, text);
    }
    box.hidden = false;
  } catch (error) { showTemplateErrors(error); }
}

async function saveTemplate(event) {
  event.preventDefault();
  clearTemplateErrors();
  try {
    await templateRequest(`/api/templates/${encodeURIComponent($("template-name").value)}`, "PUT", editedParts());
    notice("");
    $("template-output").replaceChildren(Object.assign(document.createElement("p"), { textContent: "Template saved." }));
    $("template-output").hidden = false;
  } catch (error) { showTemplateErrors(error); }
}

async function resetTemplate() {
  if (!window.confirm("Go back to the platform's default for this template?")) return;
  try {
    await templateRequest(`/api/templates/${encodeURIComponent($("template-name").value)}`, "DELETE");
  } catch (error) { if (error.status !== 404) { handle(error); return; } }
  await showTemplate().catch(handle);
}

document.addEventListener("DOMContentLoaded", () => {
  $("template-name").addEventListener("change", () => showTemplate().catch(handle));
  $("template-preview").addEventListener("click", previewTemplate);
  $("template-form").addEventListener("submit", saveTemplate);
  $("template-reset").addEventListener("click", resetTemplate);
});
