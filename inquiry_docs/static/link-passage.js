// Progressive enhancement for the document page: text selected on one page fills the
// "Link a page or passage" form (quote and page) and opens it. Without this script the
// same form takes a typed or pasted passage.
const form = document.getElementById("link-form");
const details = document.getElementById("link-passage");

function pageOf(node) {
  const element = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
  const section = element && element.closest(".app-page-text");
  return section ? section.id.replace("page-", "") : null;
}

if (form) {
  document.addEventListener("mouseup", useSelection);
  document.addEventListener("keyup", (event) => {
    if (event.shiftKey) {
      useSelection();
    }
  });
}

function useSelection() {
  const selection = window.getSelection();
  const text = selection ? selection.toString().trim() : "";
  if (!text || form.contains(selection.anchorNode)) {
    return;
  }
  const page = pageOf(selection.anchorNode);
  if (!page || page !== pageOf(selection.focusNode)) {
    return; // a passage is quoted from one page at a time
  }
  form.querySelector("#quote").value = text;
  form.querySelector("#page").value = page;
  if (details) {
    details.open = true;
  }
}
