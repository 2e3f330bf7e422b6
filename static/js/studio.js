// Small conveniences shared by every page. An ES module, no build step.
document.addEventListener("click", (event) => {
  const field = event.target.closest("input.copyable");
  if (field) {
    field.select();
    navigator.clipboard?.writeText(field.value).catch(() => {});
  }
});
// Close an open <details class="menu"> when clicking elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
// Compare: tick "compare" on finished cards; a small bar links to the side-by-side page.
document.addEventListener("change", (event) => {
  if (!event.target.matches("input[data-compare]")) return;
  const picked = [...document.querySelectorAll("input[data-compare]:checked")].map((box) => box.value);
  let bar = document.getElementById("compare-bar");
  if (!bar) {
    bar = document.createElement("div");
    bar.id = "compare-bar";
    bar.className = "compare-bar";
    document.body.append(bar);
  }
  bar.hidden = picked.length === 0;
  bar.innerHTML = "";
  const link = document.createElement("a");
  link.className = "button primary";
  link.href = `${document.body.dataset.compareUrl}?ids=${picked.slice(0, 4).join(",")}`;
  link.textContent = picked.length < 2 ? "Pick one more to compare" : `Compare ${Math.min(picked.length, 4)}`;
  if (picked.length < 2) link.setAttribute("aria-disabled", "true");
  bar.append(link);
});
// Pollers (running cards, "anything new") rest while the tab is hidden. A filter in hx-trigger would
// need eval, which the Content Security Policy forbids.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.visibilityState !== "visible" && event.detail.elt.matches?.("[data-poll-visible]")) event.preventDefault();
});
