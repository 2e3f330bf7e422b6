// The job form (templates/generations/job_form.html) offers only what the chosen model can do: its tasks,
// sizes, resolutions, durations, the inputs each task takes and its settings, all read from the catalog
// (json_script "job-catalog"). Every input file is kept on the server as soon as it is picked, so a refused
// form never loses it; the summary beside Generate asks the server what the job would make, with the same
// validation Generate runs. Without JavaScript the plain fields stay and the server says what is wrong.
import { csrfToken } from "./lib.js";

(() => {
  const form = document.getElementById("generation-form");
  const source = document.getElementById("job-catalog");
  if (!form || !source) return;
  const catalog = JSON.parse(source.textContent);
  const csrf = csrfToken(form);
  const $ = (name) => form.elements.namedItem(name);
  const wrap = (name) => form.querySelector(`[data-field="${name}"]`);
  // The input slots the server rendered (the first frame's image input, then every other file field).
  const UPLOADS = [...form.querySelectorAll('[data-field="image"], [data-asset-input]')].map((el) => el.dataset.field);
  const OWN_FIELDS = ["mask_frame_id"];
  const ACCEPT = { image: "image/png,image/jpeg,image/webp,image/bmp", video: "video/mp4,video/webm,video/quicktime", audio: "audio/wav,audio/mpeg,audio/mp4" };

  // A refused form is answered at the POST address; show (and reload) the project page's own address.
  if (form.dataset.pageUrl && location.pathname !== form.dataset.pageUrl) {
    history.replaceState(null, "", form.dataset.pageUrl + location.hash);
  }

  const paramsField = $("params");
  const paramsBox = document.createElement("div");
  paramsBox.className = "job-params";
  paramsBox.id = "job-params";
  const paramsSlot = form.querySelector("[data-params-slot]");
  (paramsSlot || wrap("params"))?.append(paramsBox);
  // The raw JSON stays as the no-script fallback; with the generated controls it is only shown on errors.
  if (wrap("params") && !wrap("params").classList.contains("field--error")) wrap("params").hidden = true;
  const note = document.createElement("p");
  note.className = "job-note";
  note.setAttribute("role", "status");
  form.querySelector(".job-row--settings")?.after(note);

  // ---- choices that follow the model -------------------------------------------------------------
  // Replace a text input by a select of ``values`` (keeping the name), or restore it.
  function choose(name, values, wanted, labelOf = (v) => v) {
    const field = wrap(name);
    if (!field) return;
    let control = $(name);
    if (!values.length) { field.hidden = true; control.value = ""; return; }
    field.hidden = false;
    if (control.tagName !== "SELECT") {
      const select = document.createElement("select");
      select.name = name; select.id = control.id;
      control.replaceWith(select);
      control = select;
    }
    control.innerHTML = "";
    values.forEach(([value, label]) => control.append(new Option(labelOf(label), value)));
    control.value = values.some(([v]) => v === wanted) ? wanted : values[0][0];
  }

  function paramControl(p, value) {
    const id = `param-${p.name}`;
    const row = document.createElement("div");
    row.className = "field job-param";
    row.dataset.param = p.name;
    row.dataset.default = JSON.stringify(p.default ?? null);
    if (p.requires) row.dataset.requires = p.requires;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = p.name.replaceAll("_", " ");
    let input;
    if (p.type === "bool") {
      input = document.createElement("input"); input.type = "checkbox"; input.checked = value ?? p.default ?? false;
      label.prepend(input, " ");
      row.classList.add("job-param--bool");
    } else if (p.choices.length) {
      input = document.createElement("select");
      p.choices.forEach((c) => input.append(new Option(c === "" ? "none" : c, c)));
      input.value = value ?? p.default ?? p.choices[0];
    } else {
      input = document.createElement("input");
      input.type = p.type === "str" ? "text" : "number";
      if (p.type === "float") input.step = "0.01";
      if (p.min !== null) input.min = p.min;
      if (p.max !== null) input.max = p.max;
      input.value = value ?? p.default ?? "";
    }
    input.id = id;
    input.dataset.type = p.type;
    row.append(label);
    if (p.type !== "bool") row.append(input);
    if (p.help) { const help = document.createElement("small"); help.className = "help"; help.textContent = p.help; row.append(help); }
    return row;
  }

  function readParams() {
    try { return JSON.parse(paramsField.value || "{}"); } catch { return {}; }
  }

  // Only what the person changed is sent: the server fills every default from the catalog itself.
  function writeParams() {
    const values = {};
    paramsBox.querySelectorAll(".job-param").forEach((row) => {
      if (row.hidden) return;
      const input = row.querySelector("input, select");
      const fallback = JSON.parse(row.dataset.default);
      let value;
      if (input.type === "checkbox") value = input.checked;
      else if (input.value === "") return;
      else value = ["int", "float"].includes(input.dataset.type) ? Number(input.value) : input.value;
      if (value === fallback || (input.type === "checkbox" && !value && fallback === null)) return;
      values[row.dataset.param] = value;
    });
    paramsField.value = Object.keys(values).length ? JSON.stringify(values) : "";
  }

  function applyRequires() {
    paramsBox.querySelectorAll(".job-param[data-requires]").forEach((row) => {
      const [name, wanted] = row.dataset.requires.split("=");
      const other = paramsBox.querySelector(`[data-param="${name}"] select, [data-param="${name}"] input`);
      row.hidden = wanted && other ? other.value !== wanted : false;
    });
  }

  const current = () => {
    const model = catalog[$("model").value];
    return model ? { model, task: model.tasks[$("task").value] } : null;
  };

  // The size a person picked counts for the model and task it was picked for; a new model or task starts
  // from its own default, which for a model that follows its input is the input's shape.
  let sizeChosen = Boolean($("size").value);
  const sentenceCase = (s) => s.charAt(0).toUpperCase() + s.slice(1);

  function render(changed) {
    const model = catalog[$("model").value];
    if (!model) return;
    const taskSelect = $("task");
    const tasks = Object.keys(model.tasks);
    const wanted = taskSelect.value;
    taskSelect.innerHTML = "";
    tasks.forEach((t) => taskSelect.append(new Option(sentenceCase(model.tasks[t].label), t)));
    taskSelect.value = tasks.includes(wanted) ? wanted : tasks[0];
    wrap("task").hidden = tasks.length < 2;
    const task = model.tasks[taskSelect.value];
    if (changed) sizeChosen = false;

    const follows = (model.size_from_image && task.slots.length > 0) || task.follows_input;
    const sizes = task.sizes.map((s) => [s, s.replace("x", " × ")]);
    if (sizes.length && follows) sizes.unshift(["", task.follows_input ? "As the input video" : "As the input"]);
    const sizeNow = $("size").value;
    choose("size", sizes, sizeChosen ? sizeNow : (follows ? "" : model.default_size || sizeNow));
    choose("resolution", model.resolutions.map((r) => [r, r]), $("resolution").value || model.default_resolution);
    choose("duration", model.durations.map((d) => [String(d), `${d} s`]), $("duration").value || String(model.default_duration ?? ""));

    const slots = Object.fromEntries(task.slots.map((s) => [s.field, s]));
    const grouped = {};
    (task.groups || []).forEach((g) => g.fields.forEach((f) => { grouped[f] = g; }));
    UPLOADS.forEach((name) => {
      const field = wrap(name);
      if (!field) return;
      const slot = slots[name];
      field.hidden = !slot;
      if (!slot) return;
      const label = field.querySelector(":scope > label") || field.querySelector(".ii-label");
      const group = grouped[name];
      let tail = slot.required ? "" : " (optional)";
      if (group) {
        const others = group.fields.filter((f) => f !== name && slots[f]).map((f) => slots[f].label);
        tail = group.rule === "exactly_one" ? ` (this or the ${others.join(" or the ")}: one is needed)` : " (give at least one of these)";
      }
      if (label) label.textContent = `${sentenceCase(slot.label)}${slot.many > 1 ? ` (up to ${slot.many})` : ""}${tail}`;
      // What the model does with this input, in the catalog's words (limits, what it is for).
      let help = field.querySelector(":scope > .job-slot-help");
      if (!help && slot.help) {
        help = document.createElement("small");
        help.className = "help job-slot-help";
        (field.querySelector("input[type=file]:not([data-ii-file])") || field.lastElementChild).after(help);
      }
      if (help) { help.textContent = slot.help || ""; help.hidden = !slot.help; }
      const input = field.querySelector("input[type=file]");
      if (input && !input.matches("[data-ii-file]")) input.accept = ACCEPT[slot.kind] || "";
    });
    const maskFrame = wrap("mask_frame_id");
    if (maskFrame) maskFrame.hidden = !slots.mask_image;

    const values = readParams();
    paramsBox.innerHTML = "";
    // A setting the form has a field of its own for (the mask's frame) is not offered twice.
    task.params.filter((p) => !OWN_FIELDS.includes(p.name)).forEach((p) => paramsBox.append(paramControl(p, values[p.name])));
    paramsBox.hidden = !paramsBox.children.length;
    if (paramsSlot) paramsSlot.hidden = paramsBox.hidden;
    applyRequires();
    writeParams();

    note.textContent = model.unavailable;  // "free, offline preview" is said by the summary
    note.hidden = !model.unavailable;
    note.classList.add("job-note--warn");
    const submit = document.getElementById("job-submit");
    if (submit) submit.disabled = Boolean(model.unavailable);
    painter.refresh();
    drawOutpaint();
  }

  // ---- input files: kept on the server as soon as they are picked ----------------------------------
  const hiddenOf = (field) => field.querySelector(`input[type=hidden][name$="_asset"]`);
  const idsOf = (field) => (hiddenOf(field)?.value || "").split(",").filter(Boolean);

  function keptItem(field, data) {
    const li = document.createElement("li");
    li.dataset.assetId = data.asset_id;
    if (data.painter_url) li.dataset.painterUrl = data.painter_url;
    const link = document.createElement("a");
    link.href = data.url; link.target = "_blank"; link.rel = "noopener"; link.textContent = data.name;
    const facts = document.createElement("span");
    facts.className = "muted"; facts.textContent = ` ${data.description} `;
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "linklike"; remove.dataset.keptRemove = "";
    remove.textContent = "Remove"; remove.setAttribute("aria-label", `Remove ${data.name}`);
    li.append(link, facts, remove);
    return li;
  }

  async function upload(field, input) {
    const many = input.multiple;
    const error = field.querySelector("[data-upload-error]");
    const list = field.querySelector("[data-kept]");
    error.hidden = true;
    const files = [...input.files];
    if (!many) { list.innerHTML = ""; hiddenOf(field).value = ""; }
    for (const file of files) {
      const body = new FormData();
      body.append("slot", field.dataset.field);
      body.append("file", file);
      field.classList.add("job-input--busy");
      let data;
      try {
        const response = await fetch(form.dataset.uploadUrl, { method: "POST", body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
        data = await response.json().catch(() => ({ error: "The file could not be kept; try again." }));
      } catch {
        data = { error: "The studio could not be reached; try again." };
      }
      field.classList.remove("job-input--busy");
      if (data.error) {
        error.textContent = `${file.name}: ${data.error}`;
        error.hidden = false;
        continue;
      }
      list.append(keptItem(field, data));
      hiddenOf(field).value = [...idsOf(field), data.asset_id].join(",");
    }
    input.value = "";  // kept: the form sends the id, never the bytes twice
    field.dispatchEvent(new CustomEvent("asset-input:change", { bubbles: true }));
  }

  form.addEventListener("change", (event) => {
    const input = event.target;
    const field = input.closest?.("[data-asset-input]");
    if (field && input.type === "file" && input.files?.length) upload(field, input);
  });
  form.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-kept-remove]");
    if (!remove) return;
    const field = remove.closest("[data-asset-input]");
    const li = remove.closest("li");
    hiddenOf(field).value = idsOf(field).filter((id) => id !== li.dataset.assetId).join(",");
    li.remove();
    field.dispatchEvent(new CustomEvent("asset-input:change", { bubbles: true }));
  });

  // ---- the mask painter, beside the input video (video_edit) ---------------------------------------
  const painter = {
    slot: form.querySelector("[data-painter-slot]"),
    button: form.querySelector("[data-painter-button]"),
    offered: "",
    url() {
      const li = wrap("video")?.querySelector("[data-kept] li[data-painter-url]");
      return li ? li.dataset.painterUrl : "";
    },
    refresh() {
      if (!this.slot || !this.button) return;
      const now = current();
      const wanted = now && now.task.slots.some((s) => s.field === "mask_image") ? this.url() : "";
      this.button.hidden = !wanted;
      if (wanted === this.offered) return;
      this.offered = wanted;
      this.slot.hidden = true;
      this.slot.innerHTML = "";
      this.button.innerHTML = "";
      if (!wanted) return;
      const open = document.createElement("button");
      open.type = "button";
      open.className = "button job-paint";
      open.textContent = "Paint the mask on this video";
      open.addEventListener("click", () => this.load(wanted));
      const hint = document.createElement("small");
      hint.className = "help";
      hint.textContent = "Paint in white what should change; the mask and its frame fill these fields.";
      this.button.append(open, hint);
    },
    async load(url) {
      const frame = $("mask_frame_id")?.value || "";
      const mask = ($("mask_image_asset")?.value || "").split(",")[0];
      const response = await fetch(`${url}?${new URLSearchParams({ frame, mask })}`, { credentials: "same-origin" });
      this.slot.hidden = false;
      if (!response.ok) { this.slot.textContent = "The painter could not be opened for this video."; return; }
      this.slot.innerHTML = await response.text();
      window.StudioMaskPainter?.init();
      this.slot.scrollIntoView({ block: "start", behavior: "smooth" });
    },
  };
  // A painted mask is a mask image like an uploaded one: show it in its field.
  form.addEventListener("mask-painter:saved", (event) => {
    const field = wrap("mask_image");
    if (!field) return;
    const data = event.detail;
    field.querySelector("[data-kept]").innerHTML = "";
    field.querySelector("[data-kept]").append(keptItem(field, { ...data, description: `${data.width}×${data.height}, frame ${data.frame}` }));
    preview.soon();
  });
  form.addEventListener("mask-painter:cleared", () => {
    const field = wrap("mask_image");
    if (field) field.querySelector("[data-kept]").innerHTML = "";
    preview.soon();
  });

  // ---- outpainting: a live preview of the padded frame ---------------------------------------------
  const outpaint = document.createElement("canvas");
  outpaint.className = "outpaint-preview";
  outpaint.setAttribute("aria-label", "Preview of the padded frame");
  paramsBox.after(outpaint);
  const still = document.createElement("video");
  still.muted = true;
  still.preload = "auto";
  function drawOutpaint() {
    const now = current();
    const kept = wrap("video")?.querySelector("[data-kept] li a");
    if (kept && still.dataset.src !== kept.href) { still.dataset.src = kept.href; still.src = kept.href; }
    const active = now && $("task").value === "video_outpainting" && still.videoWidth;
    outpaint.hidden = !active;
    if (!active) return;
    const scale = (name) => Number(paramsBox.querySelector(`[data-param="${name}"] input`)?.value || 1);
    const [w, h] = [still.videoWidth, still.videoHeight];
    const [l, r, t, b] = ["left_scale", "right_scale", "top_scale", "bottom_scale"].map(scale);
    const cw = w * (1 + (l - 1) / 2 + (r - 1) / 2);
    const ch = h * (1 + (t - 1) / 2 + (b - 1) / 2);
    const k = Math.min(480 / cw, 270 / ch);
    outpaint.width = Math.round(cw * k);
    outpaint.height = Math.round(ch * k);
    const ctx = outpaint.getContext("2d");
    ctx.fillStyle = "#2a2a38";
    ctx.fillRect(0, 0, outpaint.width, outpaint.height);
    ctx.drawImage(still, ((l - 1) / 2) * w * k, ((t - 1) / 2) * h * k, w * k, h * k);
    ctx.strokeStyle = "#8f84ff";
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(((l - 1) / 2) * w * k + 0.5, ((t - 1) / 2) * h * k + 0.5, w * k - 1, h * k - 1);
  }
  still.addEventListener("loadeddata", drawOutpaint);
  paramsBox.addEventListener("input", drawOutpaint);

  // ---- what the job would make, asked of the server ------------------------------------------------
  const preview = {
    timer: 0,
    seq: 0,
    soon() { clearTimeout(this.timer); this.timer = setTimeout(() => this.ask(), 250); },
    async ask() {
      const box = document.getElementById("job-summary");
      if (!box || !form.dataset.previewUrl) return;
      const body = new FormData(form);
      UPLOADS.forEach((name) => body.delete(name));  // kept inputs go by id; never send bytes to preview
      const seq = ++this.seq;
      try {
        const response = await fetch(form.dataset.previewUrl, { method: "POST", body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
        if (!response.ok || seq !== this.seq) return;
        const html = await response.text();
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("job-summary");
        if (fresh) document.getElementById("job-summary")?.replaceWith(fresh);
      } catch { /* offline for a moment: the next change asks again */ }
    },
  };

  // ---- the builder's parts: one line each until one is opened --------------------------------------
  form.addEventListener("focusin", (event) => {
    const part = event.target.closest(".pb-part");
    if (!part) return;
    form.querySelectorAll(".pb-part--open").forEach((p) => { if (p !== part) p.classList.remove("pb-part--open"); });
    part.classList.add("pb-part--open");
  });

  form.addEventListener("change", (event) => {
    const name = event.target.name;
    if (name === "model" || name === "task") render(true);
    else if (name === "size") sizeChosen = Boolean(event.target.value);
    else if (paramsBox.contains(event.target)) { applyRequires(); writeParams(); }
    if (name === "image_asset" || name === "video_asset") painter.refresh();
    preview.soon();
  });
  form.addEventListener("input", (event) => { if (event.target.matches("textarea, [data-pb-part]")) preview.soon(); });
  form.addEventListener("image-input:change", () => preview.soon());
  form.addEventListener("asset-input:change", () => { painter.refresh(); drawOutpaint(); preview.soon(); });
  paramsBox.addEventListener("input", writeParams);

  // The side column fits the window from where it starts, so Generate (sticky at its foot) is in view
  // before any scrolling, whatever sits above the form (messages, a remix note).
  const side = form.querySelector(".job-side");
  const fit = () => {
    if (!side || getComputedStyle(side).position !== "sticky") { if (side) side.style.maxHeight = ""; return; }
    const stickyTop = parseFloat(getComputedStyle(side).top) || 0;
    side.style.maxHeight = `${Math.max(320, innerHeight - Math.max(side.getBoundingClientRect().top, stickyTop) - 12)}px`;
  };
  addEventListener("resize", fit);
  addEventListener("scroll", fit, { passive: true });
  form.closest("details")?.addEventListener("toggle", fit);
  fit();
  render(false);
  preview.ask();
})();
