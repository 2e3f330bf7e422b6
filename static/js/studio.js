// Small conveniences shared by every page. No build step: plain ES2020.
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
