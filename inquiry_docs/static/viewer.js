// The document viewer's keys and zoom. Every action also exists as a plain link (previous
// and next page, previous and next hit, the full-size page image); this adds:
//   j / k   next / previous page       n / p   next / previous search hit
//   + / -   zoom the page images in / out, 0 fit them to the column again
// and, for those who may redact, drawing a redaction box on a page image (mouse or keys)
// and choosing words to redact by selecting them in a page's text. Both only fill in the
// page's redaction forms, which work by hand without this script.
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
    // The canvas holds the image and its redaction boxes, so both zoom together.
    const canvas = figure.querySelector(".app-page__canvas") || figure.querySelector(".app-page__image");
    figure.classList.toggle("app-page__figure--zoomed", zoom > 1);
    // CSSOM, not a style attribute: allowed by the Content Security Policy.
    canvas.style.width = zoom > 1 ? `${Math.round(zoom * 100)}%` : "";
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

// A hit link opens its page at the top of the window (#page-N, no script needed). When the
// page's first hit is further down than the window shows, bring that hit into view, unless
// the reader has moved since.
function showFirstHit() {
  const found = /^#page-(\d+)$/.exec(window.location.hash);
  const section = found && document.getElementById(`page-${found[1]}`);
  const mark = found && document.getElementById(`hit-${found[1]}-1`);
  if (!section || !mark || Math.abs(section.getBoundingClientRect().top) > 2) {
    return;
  }
  const box = mark.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) {
    mark.scrollIntoView({ block: "center" });
  }
}

if (document.readyState === "complete") {
  showFirstHit();
} else {
  window.addEventListener("load", showFirstHit, { once: true });
}

// --- drawing a redaction box ---------------------------------------------------------------
const SVG_NS = "http://www.w3.org/2000/svg";
const MOVE = 0.5; // percent of the page per arrow key press
const FIRST_BOX = { left: 40, top: 45, width: 20, height: 4 };

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function setUpDrawing(canvas) {
  const number = canvas.dataset.canvas;
  const form = document.querySelector(`[data-redact-form="${number}"]`);
  const svg = canvas.querySelector("svg");
  const button = form && form.querySelector(`[data-draw="${number}"]`);
  if (!form || !svg || !button) {
    return;
  }
  const fields = {};
  for (const name of ["left", "top", "width", "height"]) {
    fields[name] = form.querySelector(`[data-box="${name}"]`);
  }
  const label = button.textContent;
  let draft = null;
  let start = null;
  let justDrew = false;

  function current() {
    const box = {};
    for (const name of Object.keys(fields)) {
      const value = parseFloat(fields[name].value);
      box[name] = Number.isFinite(value) ? value : FIRST_BOX[name];
    }
    return box;
  }

  function fill(box) {
    const width = clamp(box.width, 0.2, 100);
    const height = clamp(box.height, 0.2, 100);
    const left = clamp(box.left, 0, 100 - width);
    const top = clamp(box.top, 0, 100 - height);
    const shown = { left, top, width, height };
    for (const name of Object.keys(fields)) {
      fields[name].value = shown[name].toFixed(2);
    }
    if (!draft) {
      draft = document.createElementNS(SVG_NS, "rect");
      draft.setAttribute("class", "app-redaction app-redaction--draft");
      svg.appendChild(draft);
    }
    draft.setAttribute("x", left * 10);
    draft.setAttribute("y", top * 10);
    draft.setAttribute("width", width * 10);
    draft.setAttribute("height", height * 10);
  }

  function drawing() {
    return button.getAttribute("aria-pressed") === "true";
  }

  function setDrawing(on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? `Finish the box (arrow keys move it, Shift and arrow keys size it)` : label;
    canvas.classList.toggle("app-page__canvas--drawing", on);
    if (on) {
      fill(current());
    }
  }

  function finish() {
    setDrawing(false);
    form.querySelector("select[name=reason]").focus();
  }

  button.hidden = false;
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", () => (drawing() ? finish() : setDrawing(true)));
  button.addEventListener("keydown", (event) => {
    if (!drawing()) {
      return;
    }
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (event.key === "Escape") {
      event.preventDefault();
      setDrawing(false);
      return;
    }
    if (!move) {
      return;
    }
    event.preventDefault();
    const box = current();
    if (event.shiftKey) {
      box.width += move[0] * MOVE;
      box.height += move[1] * MOVE;
    } else {
      box.left += move[0] * MOVE;
      box.top += move[1] * MOVE;
    }
    fill(box);
  });
  for (const field of Object.values(fields)) {
    field.addEventListener("input", () => fill(current()));
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: clamp(((event.clientX - rect.left) / rect.width) * 100, 0, 100),
      y: clamp(((event.clientY - rect.top) / rect.height) * 100, 0, 100),
    };
  }

  function fromPoints(a, b) {
    return {
      left: Math.min(a.x, b.x),
      top: Math.min(a.y, b.y),
      width: Math.abs(a.x - b.x),
      height: Math.abs(a.y - b.y),
    };
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (!drawing() || event.button !== 0) {
      return;
    }
    event.preventDefault();
    start = point(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (start) {
      fill(fromPoints(start, point(event)));
    }
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!start) {
      return;
    }
    fill(fromPoints(start, point(event)));
    start = null;
    justDrew = true;
    finish();
  });
  // A click that ends a drawing must not follow the image's link to the full-size image.
  canvas.addEventListener("click", (event) => {
    if (drawing() || justDrew) {
      event.preventDefault();
    }
    justDrew = false;
  });
}

for (const canvas of document.querySelectorAll("[data-canvas]")) {
  setUpDrawing(canvas);
}

// --- words selected in a page's text fill that page's "Words to redact" ----------------------
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function selectedWords() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) {
    return;
  }
  const range = selection.getRangeAt(0);
  const start = range.startContainer.nodeType === Node.ELEMENT_NODE ? range.startContainer : range.startContainer.parentElement;
  const text = start && start.closest(".app-text");
  if (!text || !text.contains(range.endContainer)) {
    return;
  }
  const section = text.closest("section[data-page]");
  const form = section && section.querySelector("[data-redact-words]");
  const words = selection.toString().trim();
  if (!form || !words) {
    return;
  }
  // Which time these words appear on the page: count them in the text before the selection.
  const before = document.createRange();
  before.setStart(text, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const pattern = new RegExp(`(?<!\\w)${words.split(/\s+/).map(escapeRegExp).join("\\s+")}(?!\\w)`, "gi");
  const earlier = (before.toString().match(pattern) || []).length;
  form.querySelector("input[name=words]").value = words;
  form.querySelector("input[name=occurrence]").value = String(earlier + 1);
  const details = form.closest("details");
  if (details) {
    details.open = true;
  }
}

if (document.querySelector("[data-redact-words]")) {
  document.addEventListener("mouseup", selectedWords);
  document.addEventListener("keyup", (event) => {
    if (event.shiftKey) {
      selectedWords();
    }
  });
}
