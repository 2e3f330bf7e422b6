// Mask painter: paint a black/white mask over one frame of a video, at the video's own resolution.
// No build step: plain ES2020. See templates/assets/mask_painter.html for the markup and what the
// surrounding form receives.
//
// The mask lives in an offscreen canvas exactly as large as the video: white (opaque) where painted,
// transparent elsewhere. Pointer positions are mapped from the displayed size to video pixels, so what
// is painted does not depend on how large the painter is shown. "Use this mask" flattens it onto black
// and posts a PNG; the server thresholds it to pure black and white.
import { clamp, csrfToken, onEveryLoad } from "./lib.js";

(() => {
  if (window.StudioMaskPainter) return;

  const HISTORY_BYTES = 96 * 1024 * 1024; // undo steps kept, as alpha planes, up to this much memory
  const TOOLS = { b: "brush", e: "eraser", r: "rect", l: "lasso" };
  const TEXT_TYPES = new Set(["range", "checkbox", "radio", "button", "submit", "reset", "color", "file"]);
  let active = null; // the painter that keyboard shortcuts go to

  const canvas = (w, h) => Object.assign(document.createElement("canvas"), { width: w, height: h });

  class MaskPainter {
    constructor(root) {
      this.root = root;
      const d = root.dataset;
      this.W = Number(d.width);
      this.H = Number(d.height);
      root.style.setProperty("--mp-aspect", `${this.W} / ${this.H}`);
      root.style.setProperty("--mp-ratio", `${this.W} / ${this.H}`);
      this.frames = Math.max(1, Number(d.frames) || 1);
      this.fps = Number(d.fps) || 0;
      this.canSave = d.canSave !== "0";
      this.$ = (sel) => root.querySelector(sel);

      this.view = this.$("[data-mp-canvas]");
      this.viewCtx = this.view.getContext("2d");
      this.mask = canvas(this.W, this.H);
      this.maskCtx = this.mask.getContext("2d", { willReadFrequently: true });
      this.tint = canvas(this.W, this.H);
      this.tintCtx = this.tint.getContext("2d");
      this.tintDirty = true;
      this.tintColor = getComputedStyle(root).getPropertyValue("--mp-tint").trim() || "#ff3d6e";

      this.undo = [];
      this.redo = [];
      this.drag = null;
      this.hover = null;
      this.version = 0; // bumps on every change of the mask
      this.saved = null; // {asset_id, frame, version} once "Use this mask" succeeded
      this.frame = 1;
      this.loading = false;
      this.objectUrl = null;

      this.img = this.$("[data-mp-frame]");
      this.range = this.$("[data-mp-frame-range]");
      this.number = this.$("[data-mp-frame-number]");
      this.sizeInput = this.$("[data-mp-size]");
      this.opacityInput = this.$("[data-mp-opacity]");
      this.status = this.$("[data-mp-status]");
      this.useButton = this.$('[data-mp-action="use"]');
      this.maskType = this.$("[data-mp-mask-type]");

      const maxSize = Math.max(16, Math.round(Math.max(this.W, this.H) / 5));
      this.sizeInput.max = String(maxSize);
      this.sizeInput.value = String(clamp(Math.round(Math.max(this.W, this.H) / 25), 4, maxSize));
      const vendorLast = this.fps ? Math.round(this.fps * 5) + 1 : 0;
      if (vendorLast && vendorLast < this.frames) {
        this.$("[data-mp-vendor-last]").textContent = String(vendorLast);
        this.$("[data-mp-vendor-note]").hidden = false;
      }
      if (!this.canSave) this.useButton.disabled = true;

      this.bind();
      this.syncSize();
      this.syncOpacity();
      this.syncExpand();
      this.setTool("brush");
      this.setFrame(Number(this.range.value) || 1, { quiet: true });
      this.loadInitialMask(d.initialMaskUrl);
      this.render();
    }

    // ---- wiring -------------------------------------------------------------------------------
    bind() {
      const v = this.view;
      v.addEventListener("pointerdown", (e) => this.down(e));
      v.addEventListener("pointermove", (e) => this.move(e));
      v.addEventListener("pointerup", (e) => this.up(e));
      v.addEventListener("pointercancel", (e) => this.cancel(e));
      v.addEventListener("pointerleave", () => {
        this.hover = null;
        this.schedule();
      });
      v.addEventListener("contextmenu", (e) => e.preventDefault());
      this.root.addEventListener("focusin", () => (active = this));
      this.root.addEventListener("pointerdown", () => (active = this));

      this.root.querySelectorAll("[data-mp-tool]").forEach((b) =>
        b.addEventListener("click", () => this.setTool(b.dataset.mpTool)),
      );
      this.root.querySelectorAll("[data-mp-action]").forEach((b) =>
        b.addEventListener("click", () => this.action(b.dataset.mpAction)),
      );
      this.range.addEventListener("input", () => this.setFrame(Number(this.range.value)));
      this.number.addEventListener("change", () => this.setFrame(Number(this.number.value)));
      this.number.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault(); // never submit the surrounding form from here
          this.setFrame(Number(this.number.value));
        }
      });
      this.sizeInput.addEventListener("input", () => this.syncSize());
      this.opacityInput.addEventListener("input", () => this.syncOpacity());
      this.$("[data-mp-bw]").addEventListener("change", (e) => {
        this.bw = e.target.checked;
        this.root.classList.toggle("mp-bw", this.bw);
        this.schedule();
      });
      this.maskType?.addEventListener("change", () => this.syncExpand());
      this.img.addEventListener("load", () => {
        this.root.dataset.loadedFrame = this.img.dataset.frame || "";
      });
    }

    syncSize() {
      this.size = Number(this.sizeInput.value);
      this.$("[data-mp-size-out]").textContent = `${this.size} px`;
      this.schedule();
    }

    syncOpacity() {
      this.opacity = Number(this.opacityInput.value) / 100;
      this.$("[data-mp-opacity-out]").textContent = `${this.opacityInput.value} %`;
      this.schedule();
    }

    syncExpand() {
      const tracking = !this.maskType || this.maskType.value === "tracking";
      this.root.querySelectorAll("[data-mp-expand]").forEach((el) => (el.disabled = !tracking));
    }

    setTool(tool) {
      this.tool = tool;
      this.root.querySelectorAll("[data-mp-tool]").forEach((b) =>
        b.setAttribute("aria-pressed", String(b.dataset.mpTool === tool)),
      );
      this.root.dataset.tool = tool;
      this.schedule();
    }

    action(name) {
      if (name === "undo") this.stepHistory(this.undo, this.redo);
      else if (name === "redo") this.stepHistory(this.redo, this.undo);
      else if (name === "invert") this.invert();
      else if (name === "clear") this.clear();
      else if (name === "use") this.use();
    }

    // ---- frames -------------------------------------------------------------------------------
    frameUrl(n) {
      return this.root.dataset.frameUrl.replace(/\/0\.jpg$/, `/${n}.jpg`);
    }

    setFrame(n, { quiet = false } = {}) {
      n = clamp(Math.round(Number.isFinite(n) ? n : 1), 1, this.frames);
      const changed = n !== this.frame;
      this.frame = n;
      this.range.value = String(n);
      this.number.value = String(n);
      const time = this.fps ? ` · ${((n - 1) / this.fps).toFixed(2)} s` : "";
      this.$("[data-mp-frame-info]").textContent = `Frame ${n} of ${this.frames}${time}`;
      this.range.setAttribute("aria-valuetext", `Frame ${n} of ${this.frames}`);
      this.fetchFrame();
      if (changed && !quiet) this.stale();
    }

    fetchFrame() {
      if (this.loading) return; // the frame asked for last is fetched when this one is in
      const n = this.frame;
      this.loading = true;
      const spinner = setTimeout(() => (this.$("[data-mp-loading]").hidden = false), 150);
      fetch(this.frameUrl(n), { credentials: "same-origin" })
        .then(async (r) => {
          if (!r.ok) throw new Error((await r.text()).slice(0, 300) || `Frame ${n} could not be loaded.`);
          return r.blob();
        })
        .then((blob) => {
          if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
          this.objectUrl = URL.createObjectURL(blob);
          this.img.dataset.frame = String(n);
          this.img.alt = `Frame ${n} of the video`;
          this.img.src = this.objectUrl;
        })
        .catch((err) => this.say(err.message, "error"))
        .finally(() => {
          clearTimeout(spinner);
          this.$("[data-mp-loading]").hidden = true;
          this.loading = false;
          if (this.frame !== n) this.fetchFrame();
        });
    }

    // ---- pointer ------------------------------------------------------------------------------
    point(e) {
      const r = this.view.getBoundingClientRect();
      return { x: ((e.clientX - r.left) * this.W) / r.width, y: ((e.clientY - r.top) * this.H) / r.height };
    }

    down(e) {
      if (this.drag || !e.isPrimary || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault();
      try {
        this.view.setPointerCapture(e.pointerId); // keep the stroke when the pointer leaves the canvas
      } catch {
        // a pointer the browser no longer tracks: paint without capture
      }
      this.view.focus({ preventScroll: true });
      active = this;
      const p = this.point(e);
      this.pushUndo();
      this.drag = { id: e.pointerId, tool: this.tool, start: p, last: p, points: [p], cut: e.altKey };
      if (this.tool === "brush" || this.tool === "eraser") this.dab(p);
      this.hover = p;
      this.schedule();
    }

    move(e) {
      const drag = this.drag;
      if (!drag || e.pointerId !== drag.id) {
        if (e.isPrimary && e.pointerType !== "touch") {
          this.hover = this.point(e);
          this.schedule();
        }
        return;
      }
      const events = e.getCoalescedEvents?.().length ? e.getCoalescedEvents() : [e];
      for (const ev of events) {
        const p = this.point(ev);
        if (drag.tool === "brush" || drag.tool === "eraser") this.line(drag.last, p);
        else if (drag.tool === "lasso") {
          const q = drag.points[drag.points.length - 1];
          if (Math.hypot(p.x - q.x, p.y - q.y) >= 0.5) drag.points.push(p);
        }
        drag.last = p;
      }
      drag.cut = e.altKey;
      this.hover = drag.last;
      this.schedule();
    }

    up(e) {
      const drag = this.drag;
      if (!drag || e.pointerId !== drag.id) return;
      this.drag = null;
      const ctx = this.maskCtx;
      let changed = true;
      if (drag.tool === "rect") {
        const box = this.box(drag.start, drag.last);
        changed = box.w > 0 && box.h > 0;
        if (changed) this.paint(drag.cut, () => ctx.fillRect(box.x, box.y, box.w, box.h));
      } else if (drag.tool === "lasso") {
        changed = drag.points.length >= 3;
        if (changed) this.paint(drag.cut, () => ctx.fill(this.path(drag.points)));
      }
      if (changed) this.changed();
      else this.undo.pop(); // nothing drawn: no undo step
      this.updateButtons();
      this.schedule();
    }

    cancel(e) {
      if (!this.drag || e.pointerId !== this.drag.id) return;
      this.abort();
    }

    abort() {
      if (!this.drag) return;
      this.drag = null;
      this.restore(this.undo.pop()); // back to before this stroke
      this.updateButtons();
      this.schedule();
    }

    // ---- drawing on the full-resolution mask --------------------------------------------------
    paint(cut, draw) {
      const ctx = this.maskCtx;
      ctx.save();
      ctx.globalCompositeOperation = cut ? "destination-out" : "source-over";
      ctx.fillStyle = ctx.strokeStyle = "#fff";
      draw();
      ctx.restore();
      this.tintDirty = true;
    }

    dab(p) {
      this.paint(this.tool === "eraser", () => {
        const ctx = this.maskCtx;
        ctx.beginPath();
        ctx.arc(p.x, p.y, this.size / 2, 0, Math.PI * 2);
        ctx.fill();
      });
    }

    line(a, b) {
      this.paint(this.drag.tool === "eraser", () => {
        const ctx = this.maskCtx;
        ctx.lineWidth = this.size;
        ctx.lineCap = ctx.lineJoin = "round";
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
      });
    }

    box(a, b) {
      // Whole pixels, inside the frame: a filled rectangle has crisp edges.
      const x0 = clamp(Math.round(Math.min(a.x, b.x)), 0, this.W);
      const y0 = clamp(Math.round(Math.min(a.y, b.y)), 0, this.H);
      const x1 = clamp(Math.round(Math.max(a.x, b.x)), 0, this.W);
      const y1 = clamp(Math.round(Math.max(a.y, b.y)), 0, this.H);
      return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    }

    path(points) {
      const path = new Path2D();
      points.forEach((p, i) => (i ? path.lineTo(p.x, p.y) : path.moveTo(p.x, p.y)));
      path.closePath();
      return path;
    }

    invert() {
      this.pushUndo();
      const t = this.tintCtx;
      t.save();
      t.globalCompositeOperation = "source-over";
      t.clearRect(0, 0, this.W, this.H);
      t.fillStyle = "#fff";
      t.fillRect(0, 0, this.W, this.H);
      t.globalCompositeOperation = "destination-out";
      t.drawImage(this.mask, 0, 0);
      t.restore();
      this.maskCtx.clearRect(0, 0, this.W, this.H);
      this.maskCtx.drawImage(this.tint, 0, 0);
      this.tintDirty = true;
      this.changed();
    }

    clear() {
      if (this.isEmpty()) return;
      this.pushUndo();
      this.maskCtx.clearRect(0, 0, this.W, this.H);
      this.tintDirty = true;
      this.changed();
    }

    loadInitialMask(url) {
      if (!url) return;
      const image = new Image();
      image.onload = () => {
        if (image.naturalWidth !== this.W || image.naturalHeight !== this.H) return;
        const scratch = canvas(this.W, this.H).getContext("2d", { willReadFrequently: true });
        scratch.drawImage(image, 0, 0);
        const data = scratch.getImageData(0, 0, this.W, this.H);
        const alpha = new Uint8Array(this.W * this.H);
        for (let i = 0; i < alpha.length; i++) alpha[i] = data.data[i * 4];
        this.restore(alpha);
        const asset = this.$("[data-mp-asset-input]")?.value;
        if (asset) this.saved = { asset_id: asset, frame: this.frame, version: this.version };
        this.schedule();
      };
      image.src = url;
    }

    // ---- history ------------------------------------------------------------------------------
    snapshot() {
      const data = this.maskCtx.getImageData(0, 0, this.W, this.H).data;
      const alpha = new Uint8Array(this.W * this.H);
      for (let i = 0; i < alpha.length; i++) alpha[i] = data[i * 4 + 3];
      return alpha;
    }

    restore(alpha) {
      if (!alpha) return;
      const image = this.maskCtx.createImageData(this.W, this.H);
      const data = image.data;
      for (let i = 0; i < alpha.length; i++) {
        data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = 255;
        data[i * 4 + 3] = alpha[i];
      }
      this.maskCtx.putImageData(image, 0, 0);
      this.tintDirty = true;
    }

    pushUndo() {
      this.undo.push(this.snapshot());
      this.redo.length = 0;
      const limit = Math.max(2, Math.floor(HISTORY_BYTES / (this.W * this.H)));
      if (this.undo.length > limit) this.undo.splice(0, this.undo.length - limit);
      this.updateButtons();
    }

    stepHistory(from, to) {
      if (!from.length || this.drag) return;
      to.push(this.snapshot());
      this.restore(from.pop());
      this.changed();
    }

    updateButtons() {
      this.$('[data-mp-action="undo"]').disabled = !this.undo.length;
      this.$('[data-mp-action="redo"]').disabled = !this.redo.length;
    }

    isEmpty() {
      return !this.snapshot().some((a) => a >= 128);
    }

    changed() {
      this.version += 1;
      this.tintDirty = true;
      this.updateButtons();
      this.stale();
      this.schedule();
    }

    // ---- showing it ---------------------------------------------------------------------------
    schedule() {
      if (this.frameRequested) return;
      this.frameRequested = true;
      requestAnimationFrame(() => {
        this.frameRequested = false;
        this.render();
      });
    }

    render() {
      const c = this.viewCtx;
      const { W, H } = this;
      c.clearRect(0, 0, W, H);
      const px = W / (this.view.clientWidth || W); // one screen pixel, in video pixels
      if (this.bw) {
        c.fillStyle = "#000";
        c.fillRect(0, 0, W, H);
        c.drawImage(this.mask, 0, 0);
      } else {
        if (this.tintDirty) {
          const t = this.tintCtx;
          t.save();
          t.clearRect(0, 0, W, H);
          t.drawImage(this.mask, 0, 0);
          t.globalCompositeOperation = "source-in";
          t.fillStyle = this.tintColor;
          t.fillRect(0, 0, W, H);
          t.restore();
          this.tintDirty = false;
        }
        c.globalAlpha = this.opacity;
        c.drawImage(this.tint, 0, 0);
        c.globalAlpha = 1;
      }
      const drag = this.drag;
      const shapeColor = this.bw ? "#fff" : this.tintColor;
      if (drag && (drag.tool === "rect" || drag.tool === "lasso")) {
        c.save();
        let shape;
        if (drag.tool === "rect") {
          const b = this.box(drag.start, drag.last);
          shape = new Path2D();
          shape.rect(b.x, b.y, b.w, b.h);
        } else shape = this.path(drag.points);
        c.globalAlpha = drag.cut ? 0.25 : Math.max(0.35, this.opacity);
        c.fillStyle = drag.cut ? "#000" : shapeColor;
        c.fill(shape);
        c.globalAlpha = 1;
        c.setLineDash([6 * px, 4 * px]);
        c.lineWidth = 1.5 * px;
        c.strokeStyle = "#fff";
        c.stroke(shape);
        c.lineDashOffset = 5 * px;
        c.strokeStyle = "#000";
        c.stroke(shape);
        c.restore();
      }
      if (this.hover && (this.tool === "brush" || this.tool === "eraser")) {
        c.save();
        c.beginPath();
        c.arc(this.hover.x, this.hover.y, Math.max(this.size / 2, px), 0, Math.PI * 2);
        c.lineWidth = 1.5 * px;
        c.strokeStyle = "rgba(0,0,0,.7)";
        c.stroke();
        c.lineWidth = 0.75 * px;
        c.strokeStyle = this.tool === "eraser" ? "#fff" : shapeColor;
        c.setLineDash(this.tool === "eraser" ? [3 * px, 3 * px] : []);
        c.stroke();
        c.restore();
      }
    }

    say(text, kind = "") {
      this.status.textContent = text;
      this.status.dataset.kind = kind;
    }

    // ---- the surrounding form -----------------------------------------------------------------
    inputs(name) {
      const scope = this.root.closest("form") || this.root;
      return scope.querySelectorAll(`input[name="${name}"]`);
    }

    setInputs(asset, frame) {
      this.inputs("mask_image_asset").forEach((el) => (el.value = asset));
      this.inputs("mask_frame_id").forEach((el) => (el.value = frame));
    }

    stale() {
      if (!this.saved) return;
      this.saved = null;
      this.setInputs("", "");
      this.root.dataset.saved = "";
      this.say("The mask or the frame changed: press “Use this mask” again to use the changes.", "warn");
      this.root.dispatchEvent(new CustomEvent("mask-painter:cleared", { bubbles: true }));
    }

    flattened() {
      const out = canvas(this.W, this.H);
      const ctx = out.getContext("2d");
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, this.W, this.H);
      ctx.drawImage(this.mask, 0, 0);
      return out;
    }

    async use() {
      if (!this.canSave) {
        this.say("Viewers can paint but not save masks in this workspace.", "error");
        return;
      }
      if (this.isEmpty()) {
        this.say("The mask is empty: paint the area to change first.", "error");
        return;
      }
      const version = this.version;
      const frame = this.frame;
      this.useButton.disabled = true;
      this.root.setAttribute("aria-busy", "true");
      this.say("Saving the mask…");
      try {
        const blob = await new Promise((resolve) => this.flattened().toBlob(resolve, "image/png"));
        if (!blob) throw new Error("The mask could not be encoded as PNG; try again.");
        const body = new FormData();
        body.append("mask", blob, `mask-frame-${frame}.png`);
        body.append("frame", String(frame));
        const r = await fetch(this.root.dataset.saveUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(this.root), Accept: "application/json" },
        });
        const data = await r.json().catch(() => null);
        if (!r.ok || !data || data.error) {
          const fallback =
            r.status === 403
              ? "You can look at this workspace but not change it, so the mask was not saved."
              : r.status === 404
                ? "This video is no longer in the workspace."
                : `The mask could not be saved (HTTP ${r.status}).`;
          throw new Error(data?.error || fallback);
        }
        this.setInputs(data.asset_id, data.frame);
        this.saved = { ...data, version };
        this.root.dataset.saved = data.asset_id;
        const result = this.$("[data-mp-result]");
        this.$("[data-mp-result-img]").src = data.url;
        this.$("[data-mp-result-link]").href = data.url;
        this.$("[data-mp-result-text]").textContent =
          `${data.name} · ${data.width}×${data.height} · ${data.white_pixels.toLocaleString()} white pixels`;
        result.hidden = false;
        this.say(`Mask saved for frame ${data.frame}.`, "ok");
        this.root.dispatchEvent(new CustomEvent("mask-painter:saved", { bubbles: true, detail: data }));
        if (this.version !== version || this.frame !== frame) this.stale(); // changed while saving
      } catch (err) {
        this.say(err.message || "The mask could not be saved.", "error");
      } finally {
        this.useButton.disabled = false;
        this.root.removeAttribute("aria-busy");
      }
    }
  }

  // ---- keyboard -------------------------------------------------------------------------------
  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.matches("textarea, select")) return true;
    return target.matches("input") && !TEXT_TYPES.has(target.type);
  }

  document.addEventListener("keydown", (e) => {
    const painters = [...document.querySelectorAll("[data-mask-painter][data-mp-ready]")]
      .map((el) => el.maskPainter)
      .filter((p) => p && p.root.isConnected && p.root.offsetParent !== null);
    if (!painters.length || typing(e.target)) return;
    const p = painters.includes(active) ? active : painters[0];
    const key = e.key.toLowerCase();
    const mod = e.ctrlKey || e.metaKey;
    if (mod && key === "z") {
      e.preventDefault();
      p.action(e.shiftKey ? "redo" : "undo");
    } else if (mod && key === "y") {
      e.preventDefault();
      p.action("redo");
    } else if (mod || e.altKey) {
      return;
    } else if (TOOLS[key]) {
      p.setTool(TOOLS[key]);
    } else if (key === "i") {
      p.invert();
    } else if (key === "[" || key === "]") {
      const s = p.sizeInput;
      const step = Math.max(1, Math.round(Number(s.value) * 0.15));
      s.value = String(clamp(Number(s.value) + (key === "]" ? step : -step), Number(s.min), Number(s.max)));
      p.syncSize();
    } else if (key === "escape" && p.drag) {
      p.abort();
    } else {
      return;
    }
    if (!mod) e.preventDefault();
  });

  function init() {
    document.querySelectorAll("[data-mask-painter]:not([data-mp-ready])").forEach((el) => {
      el.dataset.mpReady = "1";
      el.maskPainter = new MaskPainter(el);
    });
  }

  window.StudioMaskPainter = { init, MaskPainter };
  onEveryLoad(init); // and a painter swapped in by htmx
})();
