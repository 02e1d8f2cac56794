// The document viewer's keys and zoom. Every action also exists as a plain link (previous
// and next page, previous and next hit, the full-size page image); this adds:
//   j / k   next / previous page       n / p   next / previous search hit
//   + / -   zoom the page images in / out, 0 fit them to the column again
const pages = Array.from(document.querySelectorAll("section[data-page]"));
const tools = document.querySelector("[data-viewer-tools]");
const ZOOM_STEP = 1.25;
const ZOOM_MAX = 4;
let zoom = 1;

function currentPage() {
  // The last page whose top has scrolled past the upper part of the window.
  let current = pages[0];
  for (const page of pages) {
    if (page.getBoundingClientRect().top <= 120) {
      current = page;
    }
  }
  return current;
}

function showPage(section) {
  section.setAttribute("tabindex", "-1");
  section.focus({ preventScroll: true });
  section.scrollIntoView({ block: "start" });
  history.replaceState(null, "", `#${section.id}`);
}

function movePage(step) {
  const current = currentPage();
  if (!current) {
    return;
  }
  const target = pages[pages.indexOf(current) + step];
  if (target) {
    showPage(target);
    return;
  }
  // Past the first or last page of this view: follow the page's own link to the next view.
  const link = current.querySelector(`[data-page-link="${step > 0 ? "next" : "prev"}"]`);
  if (link) {
    window.location.assign(link.href);
  }
}

function followHit(rel) {
  const link = document.querySelector(`.app-hit-nav a[rel="${rel}"]`);
  if (link) {
    window.location.assign(link.href);
  }
}

function setZoom(value) {
  zoom = Math.min(ZOOM_MAX, Math.max(1, value));
  for (const figure of document.querySelectorAll(".app-page__figure")) {
    const image = figure.querySelector(".app-page__image");
    figure.classList.toggle("app-page__figure--zoomed", zoom > 1);
    // CSSOM, not a style attribute: allowed by the Content Security Policy.
    image.style.width = zoom > 1 ? `${Math.round(zoom * 100)}%` : "";
  }
}

const KEYS = {
  j: () => movePage(1),
  k: () => movePage(-1),
  n: () => followHit("next"),
  p: () => followHit("prev"),
  "+": () => setZoom(zoom * ZOOM_STEP),
  "=": () => setZoom(zoom * ZOOM_STEP),
  "-": () => setZoom(zoom / ZOOM_STEP),
  0: () => setZoom(1),
};

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
    return;
  }
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
    return; // typing in a form: the keys are the reader's own
  }
  const action = KEYS[event.key];
  if (action && (pages.length || event.key === "n" || event.key === "p")) {
    event.preventDefault();
    action();
  }
});

if (tools) {
  tools.hidden = false;
  tools.addEventListener("click", (event) => {
    const button = event.target.closest("[data-zoom]");
    if (!button) {
      return;
    }
    const how = button.dataset.zoom;
    setZoom(how === "in" ? zoom * ZOOM_STEP : how === "out" ? zoom / ZOOM_STEP : 1);
  });
}
