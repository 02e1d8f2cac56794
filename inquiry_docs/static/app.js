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
