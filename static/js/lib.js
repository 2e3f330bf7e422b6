// What the studio's scripts share. Each page script is an ES module that imports from here; no build step.

/** ``v`` held between ``lo`` and ``hi``. */
export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** The CSRF token for a fetch: an element's own data-csrf, a form's hidden field, the page's htmx
 * headers (<body hx-headers>), or the cookie, in that order. */
export function csrfToken(el) {
  if (el?.dataset?.csrf) return el.dataset.csrf;
  const field = (el?.closest?.("form") || el)?.querySelector?.("input[name=csrfmiddlewaretoken]");
  if (field?.value) return field.value;
  try {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
  } catch {
    /* fall through to the cookie */
  }
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

/** Run ``init(scope)`` on the page once it is parsed, and again on every region htmx swaps in. */
export function onEveryLoad(init) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => init(document));
  else init(document);
  document.addEventListener("htmx:load", (event) => init(event.detail?.elt || document));
}
