// First-frame image input: pick or drop one image, see its size and aspect at once, keep it on the server,
// and crop it to exactly 16:9, 9:16 or 1:1 when it is none of those. An ES module, no build step.
// See templates/assets/image_input.html for the markup and what the surrounding form receives.
//
// Checks before anything is uploaded: the file's first bytes must be a JPEG, PNG, WebP, BMP or GIF; its
// size within the limit; its pixel count (read from the file's header, before decoding) within what the
// server accepts. An animated image is sent on: the server keeps its first frame only, and says so. The
// picture is then decoded by the browser (which applies EXIF
// orientation, as the server does), so the size shown is the size the person sees.
//
// The crop frame is kept in whole SOURCE pixels of exactly the chosen aspect: k*a x k*b for a:b. What is
// posted is what is shown; the server cuts out the same rectangle. Where the chosen model matches the video
// to the image itself (the job catalog's ``as_is``), "Send as is" keeps the image uncropped instead, with a
// note, and sets the hidden ``<slot>_as_is``.
import { clamp, csrfToken, onEveryLoad } from "./lib.js";

(() => {

  const TOLERANCE = 0.01; // catalog.ASPECT_TOLERANCE
  const TARGETS = { "16:9": [16, 9, "1280x720"], "9:16": [9, 16, "720x1280"], "1:1": [1, 1, "960x960"] };
  const COMMON = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21", "5:4", "4:5", "2:1", "1:2"];
  const DEFAULT_MIN_SIDE = 360; // crop.DEFAULT_MIN_SIDE: DashScope and VACE, 360-2000 px a side
  const MB = 1024 * 1024;
  const HEAD_BYTES = 512 * 1024;
  const FORMAT_NAMES = { jpeg: "JPEG", png: "PNG", webp: "WebP", bmp: "BMP", gif: "GIF" };

  const ratio = (label) => {
    const [a, b] = label.split(":").map(Number);
    return a / b;
  };
  const gcd = (a, b) => (b ? gcd(b, a % b) : a);
  const quoted = (name) => `\u201c${name}\u201d`;
  const mb = (bytes) => (Math.ceil((bytes / MB) * 10) / 10).toFixed(1); // image_views.size_mb

  // ---- the catalogue's aspect helpers, the same answers as studio/providers/catalog/units.py ----------
  function closestAspect(w, h, candidates = COMMON) {
    const r = w / h;
    let best = candidates[0];
    let bestD = Infinity;
    for (const c of candidates) {
      const d = Math.abs(Math.log(r / ratio(c)));
      if (d < bestD) {
        best = c;
        bestD = d;
      }
    }
    return [best, Math.abs(r / ratio(best) - 1)];
  }

  // The crop aspect nearest to w:h (crop.closest_target): a tie goes to the image's own orientation,
  // since 4:3 is exactly as far from 16:9 as from 1:1 and a landscape picture should stay landscape.
  function closestTarget(w, h, candidates = Object.keys(TARGETS)) {
    const r = w / h;
    const rank = (label) => {
      const [a, b] = TARGETS[label];
      const distance = Math.round(Math.abs(Math.log((r * b) / a)) * 1e9) / 1e9;
      const sameSide = a > b === w > h && a < b === w < h;
      return [distance, sameSide ? 0 : 1];
    };
    let best = candidates[0];
    let bestRank = rank(best);
    for (const c of candidates.slice(1)) {
      const cr = rank(c);
      if (cr[0] < bestRank[0] || (cr[0] === bestRank[0] && cr[1] < bestRank[1])) {
        best = c;
        bestRank = cr;
      }
    }
    const [a, b] = TARGETS[best];
    return [best, Math.abs((r * b) / a - 1)];
  }

  function aspectLabel(w, h) {
    const [label, error] = closestAspect(w, h);
    if (error <= TOLERANCE) return label;
    const g = gcd(w, h);
    const a = w / g;
    const b = h / g;
    if (a <= 32 && b <= 32) return `${a}:${b}`;
    return `${(w / h).toFixed(2)}:1`;
  }

  function fits(w, h) {
    const out = {};
    for (const [label, [, , size]] of Object.entries(TARGETS)) {
      out[label] = closestAspect(w, h, [label])[1] <= TOLERANCE ? size : null;
    }
    return out;
  }

  // ---- what a file is, from its first bytes ----------------------------------------------------------
  function sniff(bytes) {
    const b = bytes;
    const at = (i, s) => [...s].every((ch, j) => b[i + j] === ch.charCodeAt(0));
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
    if (b.length >= 8 && b[0] === 0x89 && at(1, "PNG\r\n\x1a\n")) return "png";
    if (b.length >= 12 && at(0, "RIFF") && at(8, "WEBP")) return "webp";
    if (b.length >= 6 && (at(0, "GIF87a") || at(0, "GIF89a"))) return "gif";
    if (b.length >= 26 && at(0, "BM")) return "bmp";
    return null;
  }

  // Width, height and animation as the file's header states them (before any decoding); null if unknown.
  function headerInfo(bytes, format) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    const str = (i, len) => String.fromCharCode(...bytes.subarray(i, i + len));
    try {
      if (format === "png") {
        const info = { width: dv.getUint32(16), height: dv.getUint32(20), frames: 1 };
        for (let i = 8; i + 8 <= n; ) {
          const len = dv.getUint32(i);
          const type = str(i + 4, 4);
          if (type === "acTL" && i + 12 <= n) info.frames = dv.getUint32(i + 8);
          if (type === "IDAT") break;
          i += 12 + len;
        }
        return info;
      }
      if (format === "gif") return { width: dv.getUint16(6, true), height: dv.getUint16(8, true), frames: gifFrames(bytes) };
      if (format === "bmp") return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)), frames: 1 };
      if (format === "webp") {
        const chunk = str(12, 4);
        if (chunk === "VP8X") {
          const w = 1 + (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16));
          const h = 1 + (bytes[27] | (bytes[28] << 8) | (bytes[29] << 16));
          return { width: w, height: h, frames: bytes[20] & 0x02 ? 2 : 1 };
        }
        if (chunk === "VP8L") {
          const bits = dv.getUint32(21, true);
          return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1, frames: 1 };
        }
        if (chunk === "VP8 ") return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff, frames: 1 };
        return null;
      }
      if (format === "jpeg") {
        for (let i = 2; i + 9 < n; ) {
          if (bytes[i] !== 0xff) return null;
          const marker = bytes[i + 1];
          if (marker === 0xff) {
            i += 1;
            continue;
          }
          if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
            return { height: dv.getUint16(i + 5), width: dv.getUint16(i + 7), frames: 1 };
          }
          if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
            i += 2;
            continue;
          }
          i += 2 + dv.getUint16(i + 2);
        }
      }
    } catch {
      return null; // a header cut short: the decoder and the server have the last word
    }
    return null;
  }

  // Frames of a GIF, counting image descriptors (stops at 2: that is enough to call it animated).
  function gifFrames(b) {
    let i = 13;
    if (b[10] & 0x80) i += 3 * (1 << ((b[10] & 7) + 1));
    let frames = 0;
    const skipBlocks = () => {
      while (i < b.length && b[i] !== 0) i += b[i] + 1;
      i += 1;
    };
    while (i < b.length && frames < 2) {
      const kind = b[i];
      if (kind === 0x3b) break;
      if (kind === 0x21) {
        i += 2;
        skipBlocks();
      } else if (kind === 0x2c) {
        frames += 1;
        const packed = b[i + 9];
        i += 10;
        if (packed & 0x80) i += 3 * (1 << ((packed & 7) + 1));
        i += 1; // LZW minimum code size
        skipBlocks();
      } else break;
    }
    return Math.max(frames, 1);
  }

  class ImageInput {
    constructor(root) {
      this.root = root;
      const d = root.dataset;
      this.$ = (sel) => root.querySelector(sel);
      this.file = this.$("[data-ii-file]");
      this.drop = this.$("[data-ii-drop]");
      this.body = this.$("[data-ii-body]");
      this.stage = this.$("[data-ii-stage]");
      this.img = this.$("[data-ii-img]");
      this.frame = this.$("[data-ii-frame]");
      this.frameSize = this.$("[data-ii-frame-size]");
      this.info = this.$("[data-ii-info]");
      this.nameOut = this.$("[data-ii-name]");
      this.warnings = this.$("[data-ii-warnings]");
      this.cropBox = this.$("[data-ii-crop]");
      this.cropOut = this.$("[data-ii-crop-out]");
      this.applyButton = this.$('[data-ii-action="apply"]');
      this.errorOut = this.$("[data-ii-error]");
      this.stateOut = this.$("[data-ii-state]");
      this.busy = this.$("[data-ii-busy]");
      this.hidden = this.$("[data-ii-asset]");
      this.asIsField = this.$("[data-ii-as-is]");
      this.asIsButton = this.$('[data-ii-action="as-is"]');
      this.asIsNote = this.$("[data-ii-as-is-note]");
      this.initialAsIs = this.asIsField?.value === "1";
      this.limits = this.readJson(d.limitsId) || null;
      this.maxPixels = Number(d.maxPixels) || 40000000;
      const studioMax = Number(d.maxBytes) || 20 * MB;
      this.maxBytes = this.limits?.max_bytes ? Math.min(this.limits.max_bytes, studioMax) : studioMax;
      this.minSide = this.limits ? Number(this.limits.min_side) || 0 : DEFAULT_MIN_SIDE;
      const allowed = (this.limits?.aspects || []).filter((a) => a in TARGETS);
      this.aspects = allowed.length ? allowed : Object.keys(TARGETS);
      this.root.querySelectorAll("[data-ii-aspect]").forEach((b) => {
        b.hidden = !this.aspects.includes(b.dataset.iiAspect);
      });

      this.W = 0; // size of the picture shown (source pixels)
      this.H = 0;
      this.original = null; // the server's JSON for the uploaded image
      this.current = null; // the server's JSON for the image in the hidden input
      this.crop = null; // {aspect, a, b, k, x, y}
      this.objectUrl = null;
      this.token = 0; // bumps on every new pick: late answers for an older pick are dropped
      this.bind();
      this.loadInitial();
    }

    readJson(id) {
      const el = id && document.getElementById(id);
      if (!el) return null;
      try {
        let value = JSON.parse(el.textContent);
        if (typeof value === "string") value = JSON.parse(value);
        return value;
      } catch {
        return null;
      }
    }

    model() {
      if (this.root.dataset.model) return this.root.dataset.model;
      return this.root.closest("form")?.querySelector("select[name=model]")?.value || "";
    }

    // ---- wiring -------------------------------------------------------------------------------------
    bind() {
      this.file.addEventListener("change", () => {
        const files = [...this.file.files];
        this.file.value = ""; // picking the same file again still counts
        if (files.length) this.pick(files);
      });
      for (const el of [this.drop, this.body]) {
        el.addEventListener("dragover", (e) => {
          if (![...(e.dataTransfer?.types || [])].includes("Files")) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
          this.root.classList.add("ii-dragging");
        });
        el.addEventListener("dragleave", (e) => {
          if (!el.contains(e.relatedTarget)) this.root.classList.remove("ii-dragging");
        });
        el.addEventListener("drop", (e) => {
          e.preventDefault();
          this.root.classList.remove("ii-dragging");
          const files = [...(e.dataTransfer?.files || [])];
          if (files.length) this.pick(files);
        });
      }
      this.root.querySelectorAll("[data-ii-aspect]").forEach((b) =>
        b.addEventListener("click", () => this.setAspect(b.dataset.iiAspect)),
      );
      this.root.querySelectorAll("[data-ii-action]").forEach((b) =>
        b.addEventListener("click", () => this.action(b.dataset.iiAction)),
      );
      this.frame.addEventListener("pointerdown", (e) => this.down(e));
      this.stage.addEventListener("pointerdown", (e) => {
        if (e.target === this.stage || e.target === this.img) this.down(e, "jump");
      });
      this.frame.addEventListener("pointermove", (e) => this.move(e));
      this.frame.addEventListener("pointerup", (e) => this.up(e));
      this.frame.addEventListener("pointercancel", (e) => this.up(e));
      this.frame.addEventListener("lostpointercapture", () => this.up());
      this.frame.addEventListener("keydown", (e) => this.key(e));
      this.img.addEventListener("dragstart", (e) => e.preventDefault());
      this.root.closest("form")?.addEventListener("change", (e) => {
        if (e.target.name === "model") this.syncAsIs();
      });
      this.resizeObserver = new ResizeObserver(() => this.place());
      this.resizeObserver.observe(this.stage);
    }

    action(name) {
      if (name === "apply") this.applyCrop();
      else if (name === "fill") this.fillFrame();
      else if (name === "centre") this.centreFrame();
      else if (name === "replace") this.file.click();
      else if (name === "remove") this.reset();
      else if (name === "undo-crop") this.useOriginal(true);
      else if (name === "recrop") this.useOriginal(false);
      else if (name === "as-is") this.sendAsIs();
      else if (name === "crop-instead") this.cropInstead();
    }

    // ---- "Send as is": the uncropped image, for a model that matches the video to it ----------------
    asIsOffered() {
      const catalog = this.readJson("job-catalog");
      return Boolean(this.asIsField && catalog?.[this.model()]?.as_is);
    }

    setAsIs(on) {
      if (!this.asIsField) return;
      const value = on ? "1" : "";
      const changed = this.asIsField.value !== value;
      this.asIsField.value = value;
      const d = this.current;
      this.asIsNote.hidden = !on;
      this.asIsNote.textContent =
        on && d
          ? `Sent as is: ${aspectLabel(d.width, d.height)} (${d.width}x${d.height}), uncropped. This model matches ` +
            "the video to the image's shape on its own; it recommends 16:9, 9:16 or 1:1, so the result may " +
            "not have one of those sizes."
          : "";
      this.$('[data-ii-action="crop-instead"]').hidden = !on;
      if (changed) this.asIsField.dispatchEvent(new Event("change", { bubbles: true }));
    }

    sendAsIs() {
      if (!this.current || !this.asIsOffered()) return;
      this.hideCrop();
      this.setAsIs(true);
      this.setState("Sent as is", "warn");
      this.$('[data-ii-action="crop-instead"]').focus({ preventScroll: true });
    }

    cropInstead() {
      this.setAsIs(false);
      if (!this.current) return;
      this.setState("Kept · needs a crop", "warn");
      this.offerCrop(this.current.width, this.current.height);
      this.frame.focus({ preventScroll: true });
    }

    // The model changed: offer "Send as is" only where it applies, and drop the choice where it does not.
    syncAsIs() {
      if (!this.asIsButton) return;
      const offered = this.asIsOffered();
      this.asIsButton.hidden = !offered;
      if (!offered && this.asIsField.value === "1") {
        this.setAsIs(false);
        if (this.current?.needs_crop) this.cropInstead();
      }
    }

    // ---- picking and checking -----------------------------------------------------------------------
    async pick(files) {
      const token = ++this.token;
      this.showError("");
      if (files.length > 1) return this.refuse("Drop or pick one image at a time.");
      const file = files[0];
      const name = file.name || "image";
      if (!file.size) return this.refuse(`${quoted(name)} is empty (0 bytes); choose the image again.`);
      if (file.size > this.maxBytes) {
        const limit = Math.round((this.maxBytes / MB) * 10) / 10;
        return this.refuse(`${quoted(name)} is ${mb(file.size)} MB; images may be up to ${limit} MB.`);
      }
      let head;
      try {
        head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
      } catch {
        return this.refuse(`${quoted(name)} could not be read.`);
      }
      if (token !== this.token) return;
      const format = sniff(head);
      if (!format) return this.refuse(`${quoted(name)} is not an image we can read (or it is damaged).`);
      let header = headerInfo(head, format);
      if (format === "gif" && file.size > HEAD_BYTES) {
        const all = new Uint8Array(await file.arrayBuffer());
        header = { ...(header || {}), frames: gifFrames(all) };
      }
      if (header?.width && header.height && header.width * header.height > this.maxPixels) {
        return this.refuse(
          `${quoted(name)} is ${header.width}x${header.height}, too many pixels to handle; scale it down first.`,
        );
      }

      const url = URL.createObjectURL(file);
      let w;
      let h;
      try {
        const probe = new Image();
        probe.src = url;
        await probe.decode(); // naturalWidth/Height follow EXIF orientation (image-orientation: from-image)
        w = probe.naturalWidth;
        h = probe.naturalHeight;
      } catch {
        URL.revokeObjectURL(url);
        return this.refuse(`${quoted(name)} is not an image we can read (or it is damaged).`);
      }
      if (token !== this.token) return URL.revokeObjectURL(url);
      if (!w || !h) {
        URL.revokeObjectURL(url);
        return this.refuse(`${quoted(name)} is not an image we can read (or it is damaged).`);
      }

      this.clearImage();
      this.objectUrl = url;
      this.original = null;
      this.current = null;
      this.setHidden(null);
      this.show(url, w, h);
      this.nameOut.textContent = `${name} · ${FORMAT_NAMES[format]} · ${mb(file.size)} MB`;
      this.setWarnings(this.clientWarnings(format, w, h));
      this.setState("Checking…", "busy");
      this.offerCrop(w, h);
      this.upload(file, name, token);
    }

    clientWarnings(format, w, h) {
      const out = [];
      const lim = this.limits;
      if (!lim) return out;
      if (lim.formats && !lim.formats.includes(format)) {
        const names = lim.formats.map((f) => FORMAT_NAMES[f] || f.toUpperCase());
        out.push(`This model takes ${names.join(", ")} images; this one is ${FORMAT_NAMES[format]}.`);
      }
      if ((lim.min_side && Math.min(w, h) < lim.min_side) || (lim.max_side && Math.max(w, h) > lim.max_side)) {
        out.push(`This model takes images of ${lim.min_side || 1} to ${lim.max_side || "any number of"} pixels a side; this one is ${w}x${h}.`);
      }
      return out;
    }

    async upload(file, name, token) {
      const form = new FormData();
      form.append("image", file, name);
      const model = this.model();
      if (model) form.append("model", model);
      this.setBusy("Checking on the server…");
      const data = await this.post(this.root.dataset.uploadUrl, form);
      if (token !== this.token) return;
      this.setBusy(null);
      if (data.error) {
        this.clearImage();
        this.body.hidden = true;
        this.drop.hidden = false;
        return this.refuse(data.error, { keep: true });
      }
      this.original = data;
      this.accept(data);
      if (this.initialAsIs && data.needs_crop) this.sendAsIs(); // a refused form shows the choice again
      this.initialAsIs = false;
    }

    async post(url, form) {
      try {
        const response = await fetch(url, {
          method: "POST",
          body: form,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(this.root), Accept: "application/json" },
        });
        const type = response.headers.get("Content-Type") || "";
        if (type.includes("application/json")) {
          const data = await response.json();
          if (!response.ok && !data.error) data.error = `The server refused it (${response.status}).`;
          return data;
        }
        if (response.status === 403) return { error: "Viewers cannot add images in this workspace." };
        if (response.status === 404) return { error: "This workspace is not available to you." };
        if (response.status === 413) return { error: "The file is too large to send." };
        return { error: `The server could not take it (${response.status}); try again.` };
      } catch {
        return { error: "The upload did not reach the server; check the connection and try again." };
      }
    }

    // The server's answer for the image now in the hidden input.
    accept(data, { cropped = false } = {}) {
      this.current = data;
      this.setHidden(data.asset_id);
      this.setAsIs(false);
      // The server's pixels are the ones to show after a crop, and for an animation, its first frame.
      if (data.width !== this.W || data.height !== this.H || cropped || data.flattened) {
        this.show(data.url, data.width, data.height); // the server's pixels are the ones to crop
      }
      this.describe(data.width, data.height);
      this.setWarnings(data.warnings || []);
      if (cropped) {
        this.setState(`Cropped to ${aspectLabel(data.width, data.height)}`, "ok");
        this.hideCrop();
      } else {
        this.setState(data.needs_crop ? "Kept · needs a crop" : "Kept", data.needs_crop ? "warn" : "ok");
        if (data.needs_crop) this.offerCrop(data.width, data.height, { keep: true });
        else this.hideCrop();
      }
      this.$('[data-ii-action="undo-crop"]').hidden = !cropped;
      this.$('[data-ii-action="recrop"]').hidden = !cropped;
      this.syncApply();
      this.root.dispatchEvent(new CustomEvent("image-input:change", { bubbles: true, detail: data }));
    }

    refuse(message, { keep = false } = {}) {
      if (!keep && !this.current) {
        this.token += 1; // an earlier pick still uploading is dropped with its preview
        this.clearImage();
        this.img.removeAttribute("src");
        this.body.hidden = true;
        this.drop.hidden = false;
      }
      this.setBusy(null);
      this.showError(message);
      if (!this.current) this.setState("", "");
      this.root.dispatchEvent(new CustomEvent("image-input:error", { bubbles: true, detail: { message } }));
    }

    showError(message) {
      this.errorOut.textContent = message;
      this.errorOut.hidden = !message;
      this.root.classList.toggle("ii-has-error", Boolean(message));
    }

    setState(text, kind) {
      this.stateOut.textContent = text;
      this.stateOut.hidden = !text;
      this.stateOut.dataset.kind = kind || "";
    }

    setBusy(text) {
      this.busy.hidden = !text;
      if (text) this.$("[data-ii-busy-text]").textContent = text;
      this.root.classList.toggle("ii-busy-on", Boolean(text));
      this.syncApply();
    }

    setHidden(id) {
      const value = id || "";
      if (this.hidden.value !== value) {
        this.hidden.value = value;
        this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
      }
      this.root.dataset.assetId = value;
    }

    setWarnings(list) {
      this.warnings.replaceChildren(
        ...list.map((text) => Object.assign(document.createElement("li"), { textContent: text })),
      );
      this.warnings.hidden = !list.length;
    }

    show(src, w, h) {
      this.W = w;
      this.H = h;
      this.img.src = src;
      this.img.width = w;
      this.img.height = h;
      this.stage.style.setProperty("--ii-ratio", `${w / h}`);
      this.stage.style.aspectRatio = `${w} / ${h}`;
      this.body.hidden = false;
      this.drop.hidden = true;
      this.root.dataset.width = String(w);
      this.root.dataset.height = String(h);
      this.describe(w, h);
    }

    describe(w, h) {
      const [closest, error] = closestTarget(w, h, this.aspects);
      const size = TARGETS[closest][2];
      const own = aspectLabel(w, h);
      const text =
        error <= TOLERANCE
          ? `${own}, ${w}x${h} — fits ${closest}: ${size}`
          : `${own}, ${w}x${h} — closest ${closest}: ${size} needs a crop`;
      this.info.textContent = text;
      this.info.dataset.fits = error <= TOLERANCE ? closest : "";
    }

    clearImage() {
      if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
      this.objectUrl = null;
    }

    reset() {
      this.token += 1;
      this.clearImage();
      this.setAsIs(false);
      this.original = null;
      this.current = null;
      this.crop = null;
      this.img.removeAttribute("src");
      this.body.hidden = true;
      this.drop.hidden = false;
      this.hideCrop();
      this.setWarnings([]);
      this.setState("", "");
      this.showError("");
      this.setHidden(null);
      this.root.dispatchEvent(new CustomEvent("image-input:change", { bubbles: true, detail: null }));
      this.file.focus();
    }

    loadInitial() {
      const d = this.root.dataset;
      if (!d.initialId) return;
      const w = Number(d.initialWidth);
      const h = Number(d.initialHeight);
      if (!w || !h) return;
      const [closest, error] = closestTarget(w, h);
      const data = this.readJson(d.initialInfoId) || {
        asset_id: d.initialId,
        url: d.initialUrl,
        name: d.initialName,
        width: w,
        height: h,
        aspect: aspectLabel(w, h),
        closest,
        error_pct: Math.round(error * 1000) / 10,
        fits: fits(w, h),
        needs_crop: error > TOLERANCE,
        warnings: [],
      };
      this.show(data.url || d.initialUrl, w, h);
      this.nameOut.textContent = data.name || d.initialName || "";
      this.original = data;
      this.accept(data);
    }

    // ---- the crop helper ----------------------------------------------------------------------------
    offerCrop(w, h, { keep = false } = {}) {
      const [closest, error] = closestTarget(w, h, this.aspects);
      if (error <= TOLERANCE) return this.hideCrop();
      this.cropBox.hidden = false;
      this.frame.hidden = false;
      this.syncAsIs();
      this.root.classList.add("ii-cropping");
      if (keep && this.crop && this.crop.W === w && this.crop.H === h) return this.place();
      this.setAspect(closest);
    }

    hideCrop() {
      this.cropBox.hidden = true;
      this.frame.hidden = true;
      this.root.classList.remove("ii-cropping");
    }

    kRange(a, b) {
      const kMax = Math.max(1, Math.min(Math.floor(this.W / a), Math.floor(this.H / b)));
      const kMin = clamp(Math.ceil(this.minSide / Math.min(a, b)) || 1, 1, kMax);
      return [kMin, kMax];
    }

    setAspect(label) {
      const [a, b] = TARGETS[label];
      const [, kMax] = this.kRange(a, b);
      this.crop = { aspect: label, a, b, k: kMax, x: 0, y: 0, W: this.W, H: this.H };
      this.centreFrame();
      this.root.querySelectorAll("[data-ii-aspect]").forEach((btn) =>
        btn.setAttribute("aria-pressed", String(btn.dataset.iiAspect === label)),
      );
    }

    fillFrame() {
      if (!this.crop) return;
      const c = this.crop;
      const cx = c.x + (c.k * c.a) / 2;
      const cy = c.y + (c.k * c.b) / 2;
      c.k = this.kRange(c.a, c.b)[1];
      this.moveTo(cx - (c.k * c.a) / 2, cy - (c.k * c.b) / 2);
    }

    centreFrame() {
      if (!this.crop) return;
      const c = this.crop;
      this.moveTo((this.W - c.k * c.a) / 2, (this.H - c.k * c.b) / 2);
    }

    moveTo(x, y) {
      const c = this.crop;
      c.x = clamp(Math.round(x), 0, this.W - c.k * c.a);
      c.y = clamp(Math.round(y), 0, this.H - c.k * c.b);
      this.place();
    }

    place() {
      const c = this.crop;
      if (!c || !this.W) return;
      const w = c.k * c.a;
      const h = c.k * c.b;
      Object.assign(this.frame.style, {
        left: `${(c.x / this.W) * 100}%`,
        top: `${(c.y / this.H) * 100}%`,
        width: `${(w / this.W) * 100}%`,
        height: `${(h / this.H) * 100}%`,
      });
      this.frame.dataset.box = `${c.x},${c.y},${w},${h}`;
      this.frameSize.textContent = `${c.aspect} · ${w}x${h}`;
      const small = this.minSide && Math.min(w, h) < this.minSide;
      const [, kMax] = this.kRange(c.a, c.b);
      const largest = `${kMax * c.a}x${kMax * c.b}`;
      this.cropOut.textContent = small
        ? `The image is too small: its largest ${c.aspect} crop is ${largest}, under ${this.minSide} pixels a side.`
        : `Keeps ${w}x${h} from x ${c.x}, y ${c.y}; the video is ${TARGETS[c.aspect][2]}.`;
      this.cropOut.classList.toggle("error", Boolean(small));
      this.frame.classList.toggle("ii-frame--small", Boolean(small));
      this.syncApply();
    }

    syncApply() {
      const c = this.crop;
      const small = c && this.minSide && Math.min(c.k * c.a, c.k * c.b) < this.minSide;
      this.applyButton.disabled = !this.original || !this.busy.hidden || !c || Boolean(small);
    }

    // Page coordinates -> source pixels of the picture, however large it is shown.
    toSource(e) {
      const r = this.stage.getBoundingClientRect();
      return [((e.clientX - r.left) * this.W) / r.width, ((e.clientY - r.top) * this.H) / r.height];
    }

    down(e, mode) {
      if (!this.crop || this.frame.hidden || (e.button !== undefined && e.button !== 0)) return;
      e.preventDefault();
      const c = this.crop;
      const [px, py] = this.toSource(e);
      const handle = e.target.closest?.("[data-ii-handle]")?.dataset.iiHandle;
      if (mode === "jump") this.moveTo(px - (c.k * c.a) / 2, py - (c.k * c.b) / 2);
      const w = c.k * c.a;
      const h = c.k * c.b;
      this.drag = {
        id: e.pointerId,
        handle: mode === "jump" ? null : handle || null,
        px,
        py,
        x: c.x,
        y: c.y,
        // the corner that stays put while resizing
        ax: handle && handle.includes("w") ? c.x + w : c.x,
        ay: handle && handle.includes("n") ? c.y + h : c.y,
      };
      this.frame.setPointerCapture(e.pointerId);
      this.frame.focus({ preventScroll: true });
      this.root.classList.add(this.drag.handle ? "ii-resizing" : "ii-moving");
    }

    move(e) {
      const g = this.drag;
      if (!g || e.pointerId !== g.id) return;
      e.preventDefault();
      const c = this.crop;
      const [px, py] = this.toSource(e);
      if (!g.handle) {
        this.moveTo(g.x + px - g.px, g.y + py - g.py);
        return;
      }
      const east = g.handle.includes("e");
      const south = g.handle.includes("s");
      const roomX = east ? this.W - g.ax : g.ax;
      const roomY = south ? this.H - g.ay : g.ay;
      const [kMin, kMax] = this.kRange(c.a, c.b);
      const wanted = Math.max((east ? px - g.ax : g.ax - px) / c.a, (south ? py - g.ay : g.ay - py) / c.b);
      const kRoom = Math.min(Math.floor(roomX / c.a), Math.floor(roomY / c.b), kMax);
      c.k = clamp(Math.round(wanted), Math.min(kMin, kRoom), kRoom);
      c.x = east ? g.ax : g.ax - c.k * c.a;
      c.y = south ? g.ay : g.ay - c.k * c.b;
      this.place();
    }

    up(e) {
      if (!this.drag || (e && e.pointerId !== this.drag.id)) return;
      if (e && this.frame.hasPointerCapture?.(e.pointerId)) this.frame.releasePointerCapture(e.pointerId);
      this.drag = null;
      this.root.classList.remove("ii-moving", "ii-resizing");
    }

    key(e) {
      if (!this.crop) return;
      const c = this.crop;
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (moves[e.key]) {
        e.preventDefault();
        const [dx, dy] = moves[e.key];
        const unit = Math.max(1, Math.round(Math.max(this.W, this.H) / 100)) * (e.shiftKey ? 10 : 1);
        this.moveTo(c.x + dx * unit, c.y + dy * unit);
      } else if (["+", "=", "-", "_"].includes(e.key)) {
        e.preventDefault();
        const [kMin, kMax] = this.kRange(c.a, c.b);
        const step = Math.max(1, Math.round(kMax / 20)) * ((e.key === "+" || e.key === "=") ? 1 : -1);
        const cx = c.x + (c.k * c.a) / 2;
        const cy = c.y + (c.k * c.b) / 2;
        c.k = clamp(c.k + step, kMin, kMax);
        this.moveTo(cx - (c.k * c.a) / 2, cy - (c.k * c.b) / 2);
      } else if (e.key === "Enter") {
        e.preventDefault(); // never submit the surrounding form from the frame
        this.applyCrop();
      } else if (e.key === "Home") {
        e.preventDefault();
        this.centreFrame();
      }
    }

    async applyCrop() {
      const c = this.crop;
      if (!c || !this.original || this.applyButton.disabled) return;
      const token = this.token;
      const form = new FormData();
      form.append("asset_id", this.original.asset_id);
      form.append("aspect", c.aspect);
      form.append("box", `${c.x},${c.y},${c.k * c.a},${c.k * c.b}`);
      form.append("min_side", String(this.minSide || 0));
      const model = this.model();
      if (model) form.append("model", model);
      this.showError("");
      this.setBusy("Cropping…");
      const data = await this.post(this.root.dataset.cropUrl, form);
      if (token !== this.token) return;
      this.setBusy(null);
      if (data.error) return this.refuse(data.error, { keep: true });
      this.lastCrop = { ...c };
      this.accept(data, { cropped: true });
      this.$('[data-ii-action="recrop"]').focus(); // the crop helper is gone: keep the focus nearby
    }

    // Back to the uploaded image: to keep it uncropped (``keepOriginal``) or to crop it again.
    useOriginal(keepOriginal) {
      const o = this.original;
      if (!o) return;
      const saved = this.lastCrop;
      this.show(this.objectUrl || o.url, o.width, o.height);
      if (keepOriginal) {
        this.accept(o);
      } else {
        this.offerCrop(o.width, o.height);
        this.$('[data-ii-action="undo-crop"]').hidden = true;
        this.$('[data-ii-action="recrop"]').hidden = true;
        this.setState("Cropping again", "warn");
        this.describe(o.width, o.height);
      }
      if (saved && this.crop) {
        this.setAspect(saved.aspect);
        Object.assign(this.crop, { k: saved.k });
        this.moveTo(saved.x, saved.y);
      }
      this.frame.focus({ preventScroll: true });
    }
  }

  const instances = new WeakMap();
  function init(scope) {
    (scope || document).querySelectorAll?.("[data-image-input]").forEach((root) => {
      if (!instances.has(root)) instances.set(root, new ImageInput(root));
    });
  }
  window.StudioImageInput = { closestAspect, closestTarget, aspectLabel, fits, sniff, headerInfo, gifFrames, init, instances };
  onEveryLoad(init); // and an input swapped in by htmx
})();
