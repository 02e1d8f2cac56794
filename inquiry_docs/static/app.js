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
