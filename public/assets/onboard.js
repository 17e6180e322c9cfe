// Sign-up wizard: one step at a time, the server's rules checked in the browser first,
// server errors shown next to their field, and the API key shown once on success.
"use strict";

(function () {
  const steps = ["business", "contact", "services", "password", "review"];
  const fieldStep = {
    businessName: "business", industry: "business", timezone: "business", tier: "business",
    email: "contact", phone: "contact", services: "services", password: "password", passwordConfirm: "password",
  };
  const common = new Set([
    "123456789012", "password1234", "password12345", "passw0rd1234", "qwertyuiop12", "qwerty123456",
    "abcdefghijkl", "iloveyou1234", "letmein12345", "welcome12345", "administrator", "changeme1234",
    "passwordpassword", "p@ssw0rd1234", "p@ssword1234", "1q2w3e4r5t6y", "1qaz2wsx3edc",
  ]);
  const form = document.getElementById("onboard-form");
  const nextButton = document.getElementById("next");
  const backButton = document.getElementById("back");
  const formError = document.getElementById("form-error");
  let current = 0;
  let defaultServices = {};
  // One key per wizard: a double click or a retry after a network error never signs up twice.
  const idempotencyKey = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();

  const value = (id) => document.getElementById(id).value;
  const trimmed = (id) => value(id).trim();

  function setError(field, message) {
    const input = document.getElementById(field);
    const error = document.getElementById(field + "-error");
    if (error) error.textContent = message || "";
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function clearErrors() {
    document.querySelectorAll(".field-error").forEach((node) => { node.textContent = ""; });
    document.querySelectorAll("[aria-invalid]").forEach((node) => node.setAttribute("aria-invalid", "false"));
    formError.hidden = true;
    formError.textContent = "";
  }

  const rules = {
    business() {
      const errors = {};
      const name = trimmed("businessName");
      if (!name) errors.businessName = "Enter your business name.";
      else if (name.length < 2 || name.length > 120) errors.businessName = "Use 2 to 120 characters.";
      if (!value("industry")) errors.industry = "Choose your industry.";
      const zone = trimmed("timezone");
      if (!/^(UTC|[A-Za-z_]+(\/[A-Za-z0-9_+\-]+)+)$/.test(zone)) errors.timezone = "Use an IANA time zone such as Europe/London.";
      return errors;
    },
    contact() {
      const errors = {};
      const email = trimmed("email");
      if (!email) errors.email = "Enter your email address.";
      else if (!/^[A-Za-z0-9!#$%&'*+\/=?^_`{|}~.\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$/.test(email) || email.length > 254) {
        errors.email = "Enter a valid email address, like you@example.com.";
      }
      const phone = trimmed("phone");
      const digits = phone.replace(/\D/g, "");
      if (!phone) errors.phone = "Enter a phone number.";
      else if (!/^[0-9+ ().\-]+$/.test(phone)) errors.phone = "Use only digits, spaces, +, - and brackets.";
      else if (!/^(\+|00|0|44)/.test(phone.replace(/[\s().\-]/g, ""))) errors.phone = "Start with 0 for UK numbers, or + and the country code.";
      else if (digits.length < 9 || digits.length > 15) errors.phone = "That number has the wrong number of digits.";
      return errors;
    },
    services() {
      const errors = {};
      const lines = serviceLines();
      if (lines.length > 50) errors.services = "List at most 50 services.";
      else if (lines.some((line) => line.length > 80)) errors.services = "Keep each service name to 80 characters.";
      return errors;
    },
    password() {
      const errors = {};
      const password = value("password");
      if (password.length < 12) errors.password = "Use at least 12 characters.";
      else if (password.length > 256) errors.password = "Use at most 256 characters.";
      else if (common.has(password.toLowerCase()) || new Set(password.toLowerCase()).size <= 2) {
        errors.password = "That password is too common; choose another.";
      }
      if (!errors.password && value("passwordConfirm") !== password) errors.passwordConfirm = "The passwords do not match.";
      return errors;
    },
    review() { return {}; },
  };

  function serviceLines() {
    return value("services").split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
  }

  function show(index) {
    current = index;
    document.querySelectorAll("[data-step]").forEach((section) => {
      section.hidden = section.getAttribute("data-step") !== steps[index];
    });
    document.querySelectorAll("[data-step-label]").forEach((item, position) => {
      item.className = position === index ? "current" : position < index ? "done" : "";
      if (position === index) item.setAttribute("aria-current", "step"); else item.removeAttribute("aria-current");
    });
    backButton.hidden = index === 0;
    nextButton.textContent = steps[index] === "review" ? "Create my account" : "Next";
    if (steps[index] === "review") fillReview();
    const first = document.querySelector('[data-step="' + steps[index] + '"] input, [data-step="' + steps[index] + '"] select, [data-step="' + steps[index] + '"] textarea, [data-step="' + steps[index] + '"] h2');
    if (first) { if (first.tagName === "H2") first.setAttribute("tabindex", "-1"); first.focus(); }
  }

  function validate(step) {
    const errors = rules[step]();
    Object.keys(errors).forEach((field) => setError(field, errors[field]));
    const fields = Object.keys(errors);
    if (fields.length) document.getElementById(fields[0]).focus();
    return fields.length === 0;
  }

  function fillReview() {
    const industry = document.getElementById("industry");
    const rows = [
      ["Business", trimmed("businessName")],
      ["Industry", industry.options[industry.selectedIndex].text],
      ["Time zone", trimmed("timezone")],
      ["Email", trimmed("email")],
      ["Phone", trimmed("phone")],
      ["Services", serviceLines().join(", ") || "Industry defaults"],
    ];
    const list = document.getElementById("review");
    list.replaceChildren();
    rows.forEach(([term, detail]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = detail;
      list.append(dt, dd);
    });
  }

  async function loadIndustries() {
    try {
      const response = await fetch("/api/industries");
      if (!response.ok) return;
      const body = await response.json();
      body.items.forEach((item) => { defaultServices[item.name] = item.services.map((service) => service.name); });
    } catch (error) { /* the defaults are a convenience only */ }
  }

  document.getElementById("industry").addEventListener("change", (event) => {
    const services = document.getElementById("services");
    const defaults = defaultServices[event.target.value];
    if (defaults && (!services.value.trim() || services.dataset.prefilled === "true")) {
      services.value = defaults.join("\n");
      services.dataset.prefilled = "true";
    }
  });
  document.getElementById("services").addEventListener("input", (event) => { event.target.dataset.prefilled = "false"; });

  backButton.addEventListener("click", () => { clearErrors(); show(Math.max(0, current - 1)); });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    if (!validate(steps[current])) return;
    if (steps[current] !== "review") { show(current + 1); return; }
    await submit();
  });

  async function submit() {
    nextButton.disabled = true;
    nextButton.textContent = "Creating…";
    const payload = {
      businessName: trimmed("businessName"), industry: value("industry"), timezone: trimmed("timezone"),
      email: trimmed("email"), phone: trimmed("phone"), services: serviceLines(), password: value("password"),
    };
    try {
      const response = await fetch("/api/clients/onboard", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify(payload),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 201) { succeed(body); return; }
      showServerErrors(response.status, body);
    } catch (error) {
      formError.textContent = "Could not reach Bookline. Check your connection and try again.";
      formError.hidden = false;
    } finally {
      nextButton.disabled = false;
      nextButton.textContent = "Create my account";
    }
  }

  function showServerErrors(status, body) {
    let firstStep = null;
    if (status === 409) {
      setError("email", body.detail || "An account with this email already exists.");
      firstStep = "contact";
    }
    (body.errors || []).forEach((error) => {
      const step = fieldStep[error.field];
      if (step) {
        setError(error.field, error.message.charAt(0).toUpperCase() + error.message.slice(1) + ".");
        if (firstStep === null || steps.indexOf(step) < steps.indexOf(firstStep)) firstStep = step;
      }
    });
    if (firstStep) {
      show(steps.indexOf(firstStep));
      // show() focuses the step's first field; move to the first field in error instead.
      const invalid = document.querySelector('[data-step="' + firstStep + '"] [aria-invalid="true"]');
      if (invalid) invalid.focus();
    } else {
      formError.textContent = body.detail || "Something went wrong. Please try again.";
      formError.hidden = false;
    }
  }

  function succeed(body) {
    form.hidden = true;
    document.querySelector(".steps").hidden = true;
    document.getElementById("api-key").textContent = body.apiKey;
    const next = document.getElementById("next-steps");
    (body.nextSteps || []).forEach((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      next.append(item);
    });
    if (body.dashboardUrl) document.getElementById("dashboard-link").href = body.dashboardUrl;
    document.getElementById("password").value = "";
    document.getElementById("passwordConfirm").value = "";
    const success = document.getElementById("success");
    success.hidden = false;
    document.getElementById("success-title").focus();
  }

  document.getElementById("copy-key").addEventListener("click", async () => {
    const key = document.getElementById("api-key").textContent;
    const status = document.getElementById("copy-status");
    try {
      await navigator.clipboard.writeText(key);
      status.textContent = "Copied. Keep it somewhere safe.";
    } catch (error) {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("api-key"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected key.";
    }
  });

  loadIndustries();
  show(0);
})();
