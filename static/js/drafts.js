// Drafts: what a person typed in the job form survives a reload or a closed tab. Kept in this browser's
// localStorage per user and project (the form's data-draft-key); cleared once a job is made from it.
(() => {
  const form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  const key = `studio-draft:${form.dataset.draftKey}`;
  const submittedKey = `${key}:submitted`;
  const skip = (el) => !el.name || ["file", "hidden", "submit", "button", "password"].includes(el.type) || el.name === "csrfmiddlewaretoken";
  const refused = form.querySelector(".errors, .field--error, .error");

  if (sessionStorage.getItem(submittedKey)) {
    sessionStorage.removeItem(submittedKey);
    if (!refused) localStorage.removeItem(key);  // the job was made: the draft is done with
  }

  const save = () => {
    const values = {};
    for (const el of form.elements) {
      if (skip(el)) continue;
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    try { localStorage.setItem(key, JSON.stringify({ at: Date.now(), values })); } catch { /* storage full or off */ }
  };

  // A refused form already holds what was sent; otherwise bring the draft back, oldest a week.
  if (!refused) {
    let draft = null;
    try { draft = JSON.parse(localStorage.getItem(key) || "null"); } catch { draft = null; }
    if (draft && Date.now() - draft.at < 7 * 24 * 3600 * 1000) {
      // The model first: the form rebuilds its fields for it before the rest is filled in.
      const order = Object.keys(draft.values).sort((a, b) => (b === "model") - (a === "model") || (b === "task") - (a === "task"));
      for (const name of order) {
        const el = form.elements.namedItem(name);
        if (!el || skip(el) || el instanceof RadioNodeList) continue;
        if (el.type === "checkbox") el.checked = Boolean(draft.values[name]);
        else el.value = draft.values[name];
        el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
      }
      const note = document.createElement("p");
      note.className = "draft-note muted";
      note.textContent = "Your unsent draft is back. ";
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "linklike";
      discard.textContent = "Start afresh";
      discard.addEventListener("click", () => { localStorage.removeItem(key); location.reload(); });
      note.append(discard);
      form.prepend(note);
      form.closest("details")?.setAttribute("open", "");
    }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", () => { save(); sessionStorage.setItem(submittedKey, "1"); });
})();
