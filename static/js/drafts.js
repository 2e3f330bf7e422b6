// Drafts: what a person typed in the job form survives a reload or a closed tab. Kept in this browser's
// localStorage per user and project (the form's data-draft-key); cleared once a job is made from it.
// An explicit Remix (data-remix) wins over a draft: the form shows the recipe and offers the draft back.
(() => {
  const form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  const key = `studio-draft:${form.dataset.draftKey}`;
  const submittedKey = `${key}:submitted`;
  const skip = (el) => !el.name || ["file", "hidden", "submit", "button", "password"].includes(el.type) || el.name === "csrfmiddlewaretoken";
  const refused = form.querySelector(".errors, .field--error, .error:not([hidden])");
  const remixing = Boolean(form.dataset.remix);

  if (sessionStorage.getItem(submittedKey)) {
    sessionStorage.removeItem(submittedKey);
    if (!refused) localStorage.removeItem(key);  // the job was made: the draft is done with
  }

  const read = () => {
    try {
      const draft = JSON.parse(localStorage.getItem(key) || "null");
      return draft && Date.now() - draft.at < 7 * 24 * 3600 * 1000 ? draft : null;
    } catch {
      return null;
    }
  };
  const values = () => {
    const found = {};
    for (const el of form.elements) {
      if (skip(el)) continue;
      found[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    return found;
  };
  // A remix is not a draft until the person changes something in it.
  let touched = !remixing;
  const save = (event) => {
    if (event?.isTrusted) touched = true;
    if (!touched) return;
    try { localStorage.setItem(key, JSON.stringify({ at: Date.now(), values: values() })); } catch { /* storage full or off */ }
  };

  function restore(draft) {
    // The model first: the form rebuilds its fields for it before the rest is filled in.
    const order = Object.keys(draft.values).sort((a, b) => (b === "model") - (a === "model") || (b === "task") - (a === "task"));
    for (const name of order) {
      const el = form.elements.namedItem(name);
      if (!el || skip(el) || el instanceof RadioNodeList) continue;
      if (el.type === "checkbox") el.checked = Boolean(draft.values[name]);
      else el.value = draft.values[name];
      el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
    }
  }

  function note(text, label, action) {
    const p = document.createElement("p");
    p.className = "draft-note muted";
    p.setAttribute("role", "status");
    p.textContent = `${text} `;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "linklike";
    button.textContent = label;
    button.addEventListener("click", () => action(p));
    p.append(button);
    form.prepend(p);
    form.closest("details")?.setAttribute("open", "");
  }

  // A refused form already holds what was sent; otherwise bring the draft back, oldest a week.
  const draft = refused ? null : read();
  if (draft && remixing) {
    note("You have an unsent draft in this project; the remix is shown instead.", "Restore your draft", (p) => {
      p.remove();
      form.dataset.remix = "";
      const remixOf = form.elements.namedItem("remix_of");
      if (remixOf) remixOf.value = "";  // the draft is not a remix: it keeps only the remix's input files
      restore(draft);
      touched = true;
    });
  } else if (draft) {
    restore(draft);
    note("Your unsent draft is back.", "Start afresh", () => { localStorage.removeItem(key); location.assign(location.pathname); });
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", () => { touched = true; save(); sessionStorage.setItem(submittedKey, "1"); });
})();
