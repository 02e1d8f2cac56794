// Starts GOV.UK Frontend. Loaded with type="module", so only browsers that can run
// the components get the class that their styles and initAll() look for.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();

// Content that htmx swaps in gets its components started too.
document.body.addEventListener("htmx:load", (event) => {
  if (event.target !== document.body) {
    initAll(event.target);
  }
});

// Notes: text selected on a page fills the note form's page and quote (the form works
// without this; the reader can type both).
document.addEventListener("mouseup", noteFromSelection);
document.addEventListener("keyup", noteFromSelection);

function noteFromSelection() {
  const quote = document.getElementById("note-quote");
  const pageField = document.getElementById("note-page");
  const selection = window.getSelection();
  if (!quote || !pageField || !selection || selection.isCollapsed) {
    return;
  }
  const anchor = selection.anchorNode && selection.anchorNode.parentElement;
  const section = anchor && anchor.closest(".app-page-text");
  if (!section) {
    return;
  }
  const text = selection.toString().trim().slice(0, 1000);
  if (text) {
    quote.value = text;
    pageField.value = section.id.replace("page-", "");
  }
}

// Upload: once files are chosen, list them, each with its own type, source and date
// (fields file-N-*, N being the file's place in the chosen list). Without this script
// the form sends the whole-batch fields, and each file can be described after sending.
const fileInput = document.getElementById("files");
const fileRows = document.getElementById("file-details-rows");
const rowTemplate = document.getElementById("file-details-row");
const DATE_FIELDS = ["day", "month", "year"];

if (fileInput && fileRows && rowTemplate) {
  fileInput.addEventListener("change", listChosenFiles);
  fileInput.form.addEventListener("submit", checkFileDetails);
  // Back from the next page: fields left out of the last send are usable again.
  window.addEventListener("pageshow", () => {
    fileInput.form.querySelectorAll("[data-field]").forEach((field) => {
      field.disabled = false;
    });
  });
  listChosenFiles();
}

function rowValues(row) {
  const values = {};
  row.querySelectorAll("[data-field]").forEach((field) => {
    values[field.dataset.field] = field.value;
  });
  return values;
}

function listChosenFiles() {
  // What was typed for a file stays with it when the choice of files changes.
  const kept = new Map();
  fileRows.querySelectorAll("tr").forEach((row) => kept.set(row.dataset.file, rowValues(row)));
  fileRows.replaceChildren();
  Array.from(fileInput.files).forEach((file, number) => {
    const row = rowTemplate.content.firstElementChild.cloneNode(true);
    const before = kept.get(file.name) || {};
    row.dataset.file = file.name;
    row.querySelectorAll("[data-name]").forEach((el) => {
      el.textContent = file.name; // text, never markup: a file name is untrusted
    });
    row.querySelectorAll("[data-field]").forEach((field) => {
      const name = `file-${number}-${field.dataset.field}`;
      field.name = name;
      field.id = name;
      field.value = field.dataset.field === "name" ? file.name : before[field.dataset.field] || "";
    });
    row.querySelectorAll("label[data-for]").forEach((label) => {
      label.htmlFor = `file-${number}-${label.dataset.for}`;
    });
    fileRows.append(row);
  });
  document.getElementById("file-details").hidden = fileInput.files.length === 0;
}

// The date a row's fields give: null when all are empty, false when they are no date.
function rowDate(row) {
  const [day, month, year] = DATE_FIELDS.map(
    (part) => row.querySelector(`[data-field="${part}"]`).value.trim(),
  );
  if (!day && !month && !year) {
    return null;
  }
  const [d, m, y] = [day, month, year].map(Number);
  const date = new Date(y, m - 1, d);
  const real = /^\d+$/.test(day + month + year) && date.getFullYear() === y &&
    date.getMonth() === m - 1 && date.getDate() === d;
  return real && y >= 1900 && y <= 2100 ? date : false;
}

function showRowError(row, message) {
  const group = row.querySelector("[data-date]");
  const fieldset = group.querySelector("fieldset");
  const id = `${row.querySelector('[data-field="day"]').id}-error`;
  group.classList.add("govuk-form-group--error");
  const error = document.createElement("p");
  error.className = "govuk-error-message";
  error.id = id;
  const hidden = document.createElement("span");
  hidden.className = "govuk-visually-hidden";
  hidden.textContent = "Error: ";
  error.append(hidden, message);
  fieldset.insertBefore(error, fieldset.querySelector(".govuk-date-input"));
  fieldset.setAttribute("aria-describedby", id);
  row.querySelectorAll(".govuk-date-input__input").forEach((input) => {
    input.classList.add("govuk-input--error");
  });
  return id;
}

function clearRowErrors() {
  fileRows.querySelectorAll(".govuk-error-message").forEach((el) => el.remove());
  fileRows.querySelectorAll(".govuk-form-group--error").forEach((el) => {
    el.classList.remove("govuk-form-group--error");
  });
  fileRows.querySelectorAll(".govuk-input--error").forEach((el) => {
    el.classList.remove("govuk-input--error");
  });
  fileRows.querySelectorAll("fieldset[aria-describedby]").forEach((el) => {
    el.removeAttribute("aria-describedby");
  });
  document.getElementById("file-details-errors").replaceChildren();
}

function showErrorSummary(problems) {
  const box = document.getElementById("file-details-errors");
  const summary = document.createElement("div");
  summary.className = "govuk-error-summary";
  summary.tabIndex = -1;
  const alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  const title = document.createElement("h2");
  title.className = "govuk-error-summary__title";
  title.textContent = "There is a problem";
  const list = document.createElement("ul");
  list.className = "govuk-list govuk-error-summary__list";
  problems.forEach(({ target, message }) => {
    const link = document.createElement("a");
    link.href = `#${target}`;
    link.textContent = message;
    const item = document.createElement("li");
    item.append(link);
    list.append(item);
  });
  const body = document.createElement("div");
  body.className = "govuk-error-summary__body";
  body.append(list);
  alert.append(title, body);
  summary.append(alert);
  box.append(summary);
  summary.focus();
}

function checkFileDetails(event) {
  clearRowErrors();
  const rows = Array.from(fileRows.querySelectorAll("tr"));
  const problems = [];
  rows.forEach((row) => {
    if (rowDate(row) === false) {
      const message = `Enter a real date for ${row.dataset.file}, for example 27 3 2014`;
      showRowError(row, message);
      problems.push({ target: row.querySelector('[data-field="day"]').id, message });
    }
  });
  if (problems.length) {
    event.preventDefault();
    showErrorSummary(problems);
    return;
  }
  // Empty fields are left out, so a long list of files stays within the form's limits.
  rows.forEach((row) => {
    const fields = Array.from(row.querySelectorAll("[data-field]"));
    const given = fields.some((f) => f.dataset.field !== "name" && f.value.trim());
    fields.forEach((field) => {
      field.disabled = !given || (field.dataset.field !== "name" && !field.value.trim());
    });
  });
}
