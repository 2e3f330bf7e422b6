// The job form offers only what the chosen model can do: its tasks, sizes, resolutions, durations, the
// inputs each task takes and its settings. Everything is read from the catalog (json_script "job-catalog").
// Without JavaScript the plain fields stay and the server's validation says what is wrong.
(() => {
  const form = document.getElementById("generation-form");
  const source = document.getElementById("job-catalog");
  if (!form || !source) return;
  const catalog = JSON.parse(source.textContent);
  const $ = (name) => form.elements.namedItem(name);
  const wrap = (name) => form.querySelector(`[data-field="${name}"]`);
  const UPLOADS = ["image", "last_image", "video", "mask_image", "mask_video", "ref_images", "first_clip", "last_clip", "audio"];
  const paramsField = $("params");
  const paramsBox = document.createElement("div");
  paramsBox.className = "job-params";
  paramsBox.id = "job-params";
  wrap("params")?.before(paramsBox);
  // The raw JSON stays as the no-script fallback; with the generated controls it is only shown on errors.
  if (wrap("params") && !wrap("params").classList.contains("field--error")) wrap("params").hidden = true;
  const note = document.createElement("p");
  note.className = "job-note";
  note.setAttribute("role", "status");
  wrap("task")?.after(note);

  // Replace a text input by a select of ``values`` (keeping the name), or restore it.
  function choose(name, values, fallback, labelOf = (v) => v) {
    const field = wrap(name);
    if (!field) return;
    let control = $(name);
    const current = control.value || String(fallback ?? "");
    if (!values.length) { field.hidden = true; control.value = ""; return; }
    field.hidden = false;
    if (control.tagName !== "SELECT") {
      const select = document.createElement("select");
      select.name = name; select.id = control.id;
      control.replaceWith(select);
      control = select;
    }
    control.innerHTML = "";
    values.forEach((v) => control.append(new Option(labelOf(v), v)));
    control.value = values.map(String).includes(current) ? current : String(fallback ?? values[0]);
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
      row.hidden = wanted ? other?.value !== wanted : false;
    });
  }

  function render() {
    const model = catalog[$("model").value];
    if (!model) return;
    const taskSelect = $("task");
    const tasks = Object.keys(model.tasks);
    const wanted = taskSelect.value;
    taskSelect.innerHTML = "";
    tasks.forEach((t) => taskSelect.append(new Option(model.tasks[t].label, t)));
    taskSelect.value = tasks.includes(wanted) ? wanted : tasks[0];
    wrap("task").hidden = tasks.length < 2;
    const task = model.tasks[taskSelect.value];

    choose("size", task.sizes, model.size_from_image ? "" : model.default_size);
    if (task.sizes.length && model.size_from_image) $("size").prepend(new Option("Follow the input's shape", ""));
    choose("resolution", model.resolutions, model.default_resolution);
    choose("duration", model.durations.map(String), model.default_duration, (d) => `${d} s`);

    const slots = Object.fromEntries(task.slots.map((s) => [s.field, s]));
    UPLOADS.forEach((name) => {
      const field = wrap(name);
      if (!field) return;
      const slot = slots[name];
      field.hidden = !slot;
      if (slot) {
        const label = field.querySelector(":scope > label");
        if (label) label.textContent = `${slot.label[0].toUpperCase()}${slot.label.slice(1)}${slot.many > 1 ? ` (up to ${slot.many})` : ""}${slot.required ? "" : " (optional)"}`;
        const input = field.querySelector("input[type=file]");
        if (input) input.accept = slot.kind === "image" ? "image/png,image/jpeg,image/webp,image/bmp" : slot.kind === "video" ? "video/mp4,video/webm" : "audio/wav,audio/mpeg";
      }
    });

    const values = readParams();
    paramsBox.innerHTML = "";
    task.params.forEach((p) => paramsBox.append(paramControl(p, values[p.name])));
    paramsBox.hidden = task.params.length === 0;
    applyRequires();
    writeParams();

    note.textContent = model.unavailable || (model.paid ? "" : "Free: rendered on this machine as an offline preview, no AI.");
    note.classList.toggle("job-note--warn", Boolean(model.unavailable));
    drawOutpaint();
    const submit = document.getElementById("job-submit");
    if (submit) submit.disabled = Boolean(model.unavailable);
  }

  // Outpainting: a live preview of the padded frame, from the picked video's first frame and the scales.
  const preview = document.createElement("canvas");
  preview.className = "outpaint-preview";
  preview.setAttribute("aria-label", "Preview of the padded frame");
  paramsBox.after(preview);
  const still = document.createElement("video");
  still.muted = true;
  still.preload = "auto";
  function drawOutpaint() {
    const model = catalog[$("model").value];
    const active = model && $("task").value === "video_outpainting" && still.videoWidth;
    preview.hidden = !active;
    if (!active) return;
    const scale = (name) => Number(paramsBox.querySelector(`[data-param="${name}"] input`)?.value || 1);
    const [w, h] = [still.videoWidth, still.videoHeight];
    const [l, r, t, b] = ["left_scale", "right_scale", "top_scale", "bottom_scale"].map(scale);
    const cw = w * (1 + (l - 1) / 2 + (r - 1) / 2);
    const ch = h * (1 + (t - 1) / 2 + (b - 1) / 2);
    const k = Math.min(480 / cw, 270 / ch);
    preview.width = Math.round(cw * k);
    preview.height = Math.round(ch * k);
    const ctx = preview.getContext("2d");
    ctx.fillStyle = "#2a2a38";
    ctx.fillRect(0, 0, preview.width, preview.height);
    ctx.drawImage(still, ((l - 1) / 2) * w * k, ((t - 1) / 2) * h * k, w * k, h * k);
    ctx.strokeStyle = "#8f84ff";
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(((l - 1) / 2) * w * k + 0.5, ((t - 1) / 2) * h * k + 0.5, w * k - 1, h * k - 1);
  }
  still.addEventListener("loadeddata", drawOutpaint);
  form.addEventListener("change", (event) => {
    if (event.target.name === "video" && event.target.files?.[0]) {
      still.src = URL.createObjectURL(event.target.files[0]);
    }
  });
  paramsBox.addEventListener("input", drawOutpaint);

  form.addEventListener("change", (event) => {
    if (event.target.name === "model" || event.target.name === "task") render();
    else if (paramsBox.contains(event.target)) { applyRequires(); writeParams(); }
  });
  paramsBox.addEventListener("input", writeParams);
  render();
})();
