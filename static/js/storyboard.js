// The storyboard's timeline: reorder shots by dragging a card onto another, or by Alt+ArrowUp/Down on a
// focused card. Either way the card's own move form is sent (a plain POST), so the page also works without
// this script, through the Move up and Move down buttons. An ES module, no build step.
const card = (node) => node?.closest?.("[data-timeline] > li[data-shot]");

function moveTo(shot, position) {
  const form = shot.querySelector("form[data-move]");
  const field = form?.querySelector("input[name=position]");
  if (!field) return;
  field.disabled = false;
  field.value = String(position);
  form.submit();
}

document.addEventListener("dragstart", (event) => {
  const shot = card(event.target);
  if (!shot) return;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", shot.dataset.shot);
  shot.classList.add("dragging");
});
document.addEventListener("dragend", (event) => card(event.target)?.classList.remove("dragging"));
document.addEventListener("dragover", (event) => {
  if (card(event.target)) {
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  }
});
document.addEventListener("drop", (event) => {
  const target = card(event.target);
  if (!target) return;
  event.preventDefault();
  const id = event.dataTransfer.getData("text/plain");
  const dragged = document.querySelector(`[data-timeline] > li[data-shot="${CSS.escape(id)}"]`);
  if (dragged && dragged !== target) moveTo(dragged, Number(target.dataset.position));
});
document.addEventListener("keydown", (event) => {
  if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
  const shot = card(event.target);
  if (!shot || event.target !== shot) return;
  const button = shot.querySelector(event.key === "ArrowUp" ? "[data-move-up]" : "[data-move-down]");
  if (button) {
    event.preventDefault();
    button.click();
  }
});
// After a move the page comes back at the moved shot: give it the focus, so Alt+Arrow goes on moving it.
function focusFromHash() {
  const shot = location.hash && document.getElementById(location.hash.slice(1));
  if (card(shot)) shot.focus();
}
document.addEventListener("DOMContentLoaded", focusFromHash);
if (document.readyState !== "loading") focusFromHash();
// The timeline refreshes itself while takes are made; not while someone is typing in it (a trim, a take).
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  if (elt.matches?.("[data-keep-focus]") && elt.contains(document.activeElement) && document.activeElement !== elt) {
    const typing = document.activeElement.matches("input, select, textarea");
    if (typing) event.preventDefault();
  }
});
