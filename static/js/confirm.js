// Ask before destructive actions, without inline handlers (the Content-Security-Policy forbids them).
//
//   <form method="post" action="…" data-confirm="Delete this video?">…</form>
//   <button type="submit" data-confirm="Submit again?">…</button>   (only when this button submits)
//   <a href="…" data-confirm="Leave this page?">…</a>
//
// One listener on the document, in the capture phase, so it runs before htmx or any other handler and
// a "Cancel" stops the action everywhere. Works for elements added later (htmx swaps) too.
(() => {
  const ask = (event, message) => {
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      const button = event.submitter;
      ask(event, button?.dataset.confirm ?? form.dataset.confirm);
    },
    true,
  );
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest?.("a[data-confirm]");
      if (link) ask(event, link.dataset.confirm);
    },
    true,
  );
})();
