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
// Live updates: while the gallery's event stream is open, cards and "anything new" change on its events
// and their polls stand down; when it drops, the polls run again until it is back. The stream's address
// carries the last event's id, so a stream the extension has to open afresh still starts where it left off.
const liveSource = (elt) => elt?.closest?.("[sse-connect]");
document.addEventListener("htmx:sseOpen", (event) => { event.target.dataset.live = "open"; });
document.addEventListener("htmx:sseError", (event) => { delete event.target.dataset.live; });
document.addEventListener("htmx:sseClose", (event) => { delete event.target.dataset.live; });
// A card's event is seen before it swaps (its element leaves the page with the swap); news after.
const rememberEventId = (event) => {
  const id = event.detail?.lastEventId;
  const source = liveSource(event.target);
  if (!id || !source) return;
  const url = new URL(source.getAttribute("sse-connect"), document.baseURI);
  url.searchParams.set("since", id);
  source.setAttribute("sse-connect", url.pathname + url.search);
};
document.addEventListener("htmx:sseBeforeMessage", rememberEventId);
document.addEventListener("htmx:sseMessage", rememberEventId);
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  if (!elt.matches?.("[data-poll-fallback]") || liveSource(elt)?.dataset.live !== "open") return;
  const cause = event.detail.requestConfig?.triggeringEvent?.type || "";
  if (!cause.startsWith("sse:")) event.preventDefault(); // a poll, while the stream carries the news
});
