// The guided prompt builder (templates/prompts/builder.html). An ES module, no build step.
//
// Parts -> one paragraph with compose(), the same rule as studio.prompts.models.compose (tests check both
// agree). The paragraph goes into the real `prompt` field; "Edit the final text" lets the user change it by
// hand, and the builder then asks before overwriting it. Counts use Python's rules (str.split(), len() of
// the stripped text in code points; words as studio.prompts.counting counts them, two Chinese or Japanese
// characters a word), so the numbers match what the server checks.
import { onEveryLoad } from "./lib.js";

(() => {

  // studio.prompts.models.PART_NAMES, in compose order.
  const PART_NAMES = ["subject", "action", "details", "scene", "camera", "lighting", "style", "changes"];
  // The characters Python's str.isspace() accepts: str.split() and str.strip() use exactly these.
  const WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const WS_RUN = new RegExp(`[${WS}]+`);
  const WS_EDGES = new RegExp(`^[${WS}]+|[${WS}]+$`, "g");
  const WS_END = new RegExp(`[${WS}]+$`);
  const ENDS_SENTENCE = /[.!?。]$/;
  // studio.prompts.models.SENTENCE_ENDS and CLOSERS: compose() adds no full stop after a sentence end,
  // optionally followed by closing quotes or brackets.
  const SENTENCE_ENDS = ".!?\u2026\u3002\uff01\uff1f\uff0e\uff61";
  const CLOSERS =
    "\"')]}\u00bb\u2019\u201d\u203a" +
    "\u3009\u300b\u300d\u300f\u3011\u3015\u3017\u3019\u301b\uff02\uff07\uff09\uff3d\uff5d";
  const inClass = (chars) => chars.replace(/[\\\]\[^-]/g, "\\$&");
  const COMPOSED_END = new RegExp(`[${inClass(SENTENCE_ENDS)}][${inClass(CLOSERS)}]*$`, "u");
  const PLACEHOLDER = /\{[a-z][a-z0-9 _-]{0,30}\}/g;
  const SEPARATOR = "[,.;!?。]";

  /** Python's str.split(): the words of `s`. */
  const words = (s) => String(s ?? "").split(WS_RUN).filter(Boolean);
  // studio.prompts.counting: Han, hiragana and katakana count two characters a word; CJK punctuation none.
  const CJK_CHARS =
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f\u{20000}-\u{3134f}";
  const CJK_PUNCT = "\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65";
  const CJK_PER_WORD = 2;
  const CJK_ONE = new RegExp(`^[${CJK_CHARS}]$`, "u");
  const CJK_ALL = new RegExp(`[${CJK_CHARS}]`, "gu");
  const CJK_OR_PUNCT = new RegExp(`[${CJK_CHARS}${CJK_PUNCT}]`, "gu");
  /** studio.prompts.counting.cjk_chars */
  const cjkChars = (s) => (String(s ?? "").match(CJK_ALL) || []).length;
  /** studio.prompts.counting.word_count: words, plus one per two Chinese or Japanese characters. */
  const wordCount = (s) =>
    words(String(s ?? "").replace(CJK_OR_PUNCT, " ")).length + Math.ceil(cjkChars(s) / CJK_PER_WORD);
  /** Python's len(s.strip()): code points, not UTF-16 units. */
  const charCount = (s) => [...String(s ?? "").replace(WS_EDGES, "")].length;

  /** studio.prompts.models.sentence_start: the first letter capitalised, nothing else changed. Only a
   * lower-case letter whose capital is one character changes; a first word with a capital inside ("iPhone")
   * and a part starting with anything else (digit, quote, {blank}, CJK) stay as typed. */
  function sentenceStart(text) {
    const first = String.fromCodePoint(text.codePointAt(0));
    if (!/^\p{Ll}$/u.test(first)) return text;
    const upper = first.toUpperCase();
    if ([...upper].length !== 1) return text;
    const firstWord = text.split(" ", 1)[0];
    if (/\p{Lu}/u.test(firstWord.slice(first.length))) return text;
    return upper + text.slice(first.length);
  }

  // studio.prompts.models.CLAUSE_OPENERS: an action starting with one of these is a sentence of its own.
  const CLAUSE_OPENERS = new Set(
    "a an the he she it they we i you this that these those his her its their my our your there here some".split(" "),
  );

  /** studio.prompts.models.joins_subject: the action continues the subject's sentence. */
  function joinsSubject(subject, action) {
    if (!subject || !action || COMPOSED_END.test(subject)) return false;
    const first = String.fromCodePoint(action.codePointAt(0));
    if (CJK_ONE.test(first)) return true;
    if (!/^\p{Ll}$/u.test(first)) return false;
    const word = action.split(" ", 1)[0].replace(/[^\p{L}\p{N}_'-]+$/u, "");
    if (/\p{Lu}/u.test(word)) return false;
    return !CLAUSE_OPENERS.has(word.toLowerCase());
  }

  /** studio.prompts.models.compose: one paragraph from the parts, in PART_NAMES order; the subject and the
   * action open it as one sentence when the action continues the subject, every other part a sentence. */
  function compose(parts) {
    const values = {};
    for (const name of PART_NAMES) {
      const raw = parts && Object.prototype.hasOwnProperty.call(parts, name) ? parts[name] : "";
      values[name] = words(raw).join(" ");
    }
    if (joinsSubject(values.subject, values.action)) {
      const last = [...values.subject].pop();
      const cjk = CJK_ONE.test(last) && CJK_ONE.test(String.fromCodePoint(values.action.codePointAt(0)));
      values.subject = values.subject + (cjk ? "" : " ") + values.action;
      values.action = "";
    }
    const sentences = [];
    for (const name of PART_NAMES) {
      const value = values[name];
      if (!value) continue;
      const sentence = sentenceStart(value);
      sentences.push(COMPOSED_END.test(sentence) ? sentence : `${sentence}.`);
    }
    return sentences.join(" ");
  }

  const blanksIn = (text) => [...new Set(String(text).match(PLACEHOLDER) || [])];
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const capitalise = (s) => s.charAt(0).toLocaleUpperCase() + s.slice(1);
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  /** A chip's phrase as a whole segment of the text (between separators), any case. */
  const phraseRe = (phrase) =>
    new RegExp(`(^|${SEPARATOR}[${WS}]*)(${escapeRe(phrase)})(?=[${WS}]*(?:$|${SEPARATOR}))`, "iu");

  /** Append a phrase: ", phrase" after a clause, "Phrase" at a sentence start. */
  function addPhrase(text, phrase, sentenceCase) {
    const head = String(text).replace(WS_END, "");
    const start = sentenceCase ? capitalise(phrase) : phrase;
    if (!head) return start;
    if (ENDS_SENTENCE.test(head)) return `${head} ${start}`;
    return `${head}, ${phrase}`;
  }

  /** Remove a phrase added by addPhrase, with one separator next to it. */
  function removePhrase(text, phrase) {
    const m = phraseRe(phrase).exec(text);
    if (!m) return text;
    const start = m.index + m[1].length;
    let before = text.slice(0, start);
    let after = text.slice(start + m[2].length);
    const commaAfter = new RegExp(`^[${WS}]*,[${WS}]*`);
    const commaBefore = new RegExp(`[${WS}]*,[${WS}]*$`);
    const stopAfter = new RegExp(`^[${WS}]*[.;!?。][${WS}]*`);
    if (commaAfter.test(after)) after = after.replace(commaAfter, "");
    else if (commaBefore.test(before)) before = before.replace(commaBefore, "");
    else if (stopAfter.test(after)) after = after.replace(stopAfter, "");
    if (/^\p{Lu}/u.test(m[2]) && after && (!before.trim() || ENDS_SENTENCE.test(before.trim()))) {
      after = capitalise(after);
    }
    return (before + after).replace(WS_END, "");
  }

  const hasPhrase = (text, phrase) => phraseRe(phrase).test(text);

  function autosize(textarea) {
    if (textarea.hidden || !textarea.isConnected) return;
    textarea.style.height = "auto";
    textarea.style.height = `${textarea.scrollHeight + 2}px`;
  }

  class Builder {
    constructor(root) {
      this.root = root;
      this.form = root.closest("form");
      const $ = (sel) => root.querySelector(sel);
      this.parts = new Map([...root.querySelectorAll("[data-pb-part]")].map((t) => [t.dataset.pbPart, t]));
      this.prompt = $("[data-pb-prompt]");
      this.preview = $("[data-pb-preview]");
      this.toggle = $("[data-pb-edit-toggle]");
      this.partsJson = $("[data-pb-parts-json]");
      this.negative = $("[data-pb-negative]");
      this.askBox = $("[data-pb-ask]");
      this.status = $("[data-pb-status]");
      // The builder's own limits, or (in the job form) each model's limits from the job catalog.
      const own = $("#pb-limits, [data-pb-limits]");
      const jobCatalog = document.getElementById("job-catalog");
      this.limits = own
        ? JSON.parse(own.textContent)
        : Object.fromEntries(Object.entries(JSON.parse(jobCatalog?.textContent || "{}")).map(([key, m]) => [key, m.limits]));
      this.model = (this.form || document).querySelector('select[name="model"]');
      this.editing = root.dataset.manual === "1";
      this.handEdited = this.editing;
      this.kept = this.editing; // a hand-edited text sent back by the server was already the user's choice
      this.askResolve = null;
      this.bind();
      for (const group of root.querySelectorAll(".pb-chips")) {
        const first = group.querySelector(".pb-chip");
        if (first) first.tabIndex = 0;
      }
      if (this.form?.hasAttribute("data-pb-demo")) {
        this.form.addEventListener("submit", (event) => event.preventDefault());
      }
      this.setEditing(this.editing, { keepText: true });
      this.refresh();
      for (const t of this.parts.values()) autosize(t);
      autosize(this.negative);
    }

    // -- state ---------------------------------------------------------------------------------------------
    values() {
      const out = {};
      for (const [name, t] of this.parts) out[name] = t.value;
      return out;
    }

    composed() {
      return compose(this.values());
    }

    currentLimits() {
      const key = this.model?.value || this.root.dataset.model || "";
      return this.limits[key] || {};
    }

    hasContent() {
      const anyPart = [...this.parts.values()].some((t) => t.value.trim());
      return anyPart || !!this.negative?.value.trim() || (this.editing && !!this.prompt.value.trim());
    }

    /** After any change to the parts: JSON, final text (unless edited by hand), preview, counts, chips. */
    refresh() {
      const parts = this.values();
      const kept = {};
      for (const name of PART_NAMES) if (parts[name] && parts[name].trim()) kept[name] = parts[name];
      this.partsJson.value = JSON.stringify(kept);
      const composed = compose(parts);
      if (!this.editing) {
        this.prompt.value = composed;
      } else if (!this.handEdited) {
        this.prompt.value = composed;
        autosize(this.prompt);
      } else if (this.prompt.value !== composed && !this.kept && !this.askBox.dataset.kind) {
        this.askOverwrite();
      }
      this.renderPreview();
      this.updateCounts();
      this.updateChips();
      this.updateManualNote();
    }

    async askOverwrite() {
      const yes = await this.ask(
        "overwrite",
        "You edited the final text by hand. Replace it with the text composed from the parts?",
        "Use the parts' text",
        "Keep my text",
      );
      if (yes) this.recompose();
      else this.kept = true;
      this.updateManualNote();
    }

    recompose() {
      this.prompt.value = this.composed();
      this.handEdited = false;
      this.kept = false;
      this.hideAsk();
      autosize(this.prompt);
      this.renderPreview();
      this.updateCounts();
      this.updateManualNote();
    }

    setEditing(on, { keepText = false } = {}) {
      this.editing = on;
      this.toggle.checked = on;
      this.prompt.hidden = !on;
      this.preview.hidden = on;
      if (!on) {
        this.handEdited = false;
        this.kept = false;
        this.prompt.value = this.composed();
      } else if (!keepText) {
        this.prompt.value = this.composed();
        this.handEdited = false;
      }
      autosize(this.prompt);
    }

    // -- rendering -----------------------------------------------------------------------------------------
    renderPreview() {
      const text = this.prompt.value;
      this.preview.replaceChildren();
      let last = 0;
      for (const m of text.matchAll(PLACEHOLDER)) {
        if (m.index > last) this.preview.append(text.slice(last, m.index));
        const mark = document.createElement("mark");
        mark.className = "pb-blank";
        mark.textContent = m[0];
        this.preview.append(mark);
        last = m.index + m[0].length;
      }
      if (last < text.length) this.preview.append(text.slice(last));
      const blanks = blanksIn(text);
      this.note("[data-pb-blanks]", blanks.length ? `Fill in the blanks: ${blanks.join(", ")}` : "");
    }

    updateCounts() {
      const lim = this.currentLimits();
      const text = this.prompt.value;
      const nWords = wordCount(text);
      const cjk = cjkChars(text) > 0;
      const nChars = charCount(text);
      const messages = [];

      const advice = lim.advised_words;
      const cjkRule = cjk ? ` (${CJK_PER_WORD} Chinese or Japanese characters count as one)` : "";
      this.meter("words", `${plural(nWords, "word")}${cjkRule}${advice ? ` · advice: at most ${advice}` : ""}`, {
        ratio: advice ? nWords / advice : null,
        state: advice && nWords > advice ? "warn" : "ok",
      });
      const max = lim.max_chars;
      const charState = max && nChars > max ? "over" : max && nChars >= max * 0.9 ? "near" : "ok";
      this.meter(
        "chars",
        max ? `${nChars} / ${max} characters · limit` : `${plural(nChars, "character")} · no limit stated`,
        { ratio: max ? nChars / max : null, state: charState },
      );
      if (max && nChars > max) {
        messages.push({
          level: "over",
          text: `Over the limit by ${plural(nChars - max, "character")}: ${lim.label} takes at most ${max}. Shorten the parts or edit the final text.`,
        });
      }
      if (advice && nWords > advice) {
        messages.push({
          level: "warn",
          text: `The Wan prompt guide advises at most ${advice} words; this has ${nWords}${cjkRule}. It will still run.`,
        });
      }
      const msg = this.root.querySelector("[data-pb-limit-msg]");
      msg.hidden = !messages.length;
      msg.textContent = messages.map((m) => m.text).join(" ");
      msg.className = `pb-note${messages.length ? ` pb-note--${messages[0].level}` : ""}`;
      this.updateNegative(lim);
    }

    updateNegative(lim = this.currentLimits()) {
      if (!this.negative) return;
      const n = charCount(this.negative.value);
      const count = this.root.querySelector("[data-pb-neg-count]");
      const max = lim.negative_max_chars;
      let state = "ok";
      let message = "";
      if (lim.negative_allowed === false) {
        count.textContent = plural(n, "character");
        message = `${lim.label} takes no negative prompt.${n ? " Leave this empty or say it in the prompt." : ""}`;
        state = n ? "over" : "ok";
      } else if (max) {
        count.textContent = `${n} / ${max} characters · limit`;
        state = n > max ? "over" : n >= max * 0.9 ? "near" : "ok";
        if (n > max) message = `Over the limit by ${plural(n - max, "character")}: ${lim.label} takes at most ${max}.`;
      } else {
        count.textContent = `${plural(n, "character")} · no limit stated`;
      }
      count.dataset.state = state;
      this.note("[data-pb-neg-msg]", message, state === "over" ? "over" : "");
    }

    meter(kind, text, { ratio, state }) {
      const wrap = this.root.querySelector(`[data-pb-${kind}-meter]`);
      wrap.querySelector(`[data-pb-${kind}]`).textContent = text;
      wrap.dataset.state = state;
      const bar = wrap.querySelector(`[data-pb-${kind}-bar]`);
      bar.parentElement.hidden = ratio === null;
      if (ratio !== null) bar.style.width = `${Math.min(100, ratio * 100).toFixed(1)}%`;
    }

    note(selector, text, level = "") {
      const el = this.root.querySelector(selector);
      if (!el) return;
      el.hidden = !text;
      el.textContent = text;
      if (level) el.dataset.level = level;
      else delete el.dataset.level;
    }

    updateChips() {
      for (const [, textarea] of this.parts) {
        const wrap = textarea.closest("[data-pb-part-wrap]");
        for (const chip of wrap.querySelectorAll("[data-pb-chip]")) {
          chip.setAttribute("aria-pressed", String(hasPhrase(textarea.value, chip.dataset.pbChip)));
        }
      }
      if (this.negative) {
        for (const chip of this.root.querySelectorAll("[data-pb-neg-chip]")) {
          chip.setAttribute("aria-pressed", String(hasPhrase(this.negative.value, chip.dataset.pbNegChip)));
        }
      }
    }

    updateManualNote() {
      const note = this.root.querySelector("[data-pb-manual-note]");
      if (note) note.hidden = !(this.editing && this.handEdited && this.kept && this.prompt.value !== this.composed());
    }

    say(text) {
      this.status.textContent = text;
      clearTimeout(this.statusTimer);
      if (text) this.statusTimer = setTimeout(() => (this.status.textContent = ""), 6000);
    }

    // -- asking (inline, never a modal dialog) ---------------------------------------------------------------
    ask(kind, message, yes, no) {
      if (this.askResolve) this.askResolve(false);
      this.askBox.dataset.kind = kind;
      this.askBox.querySelector("[data-pb-ask-text]").textContent = message;
      this.askBox.querySelector("[data-pb-ask-yes]").textContent = yes;
      this.askBox.querySelector("[data-pb-ask-no]").textContent = no;
      this.askBox.hidden = false;
      return new Promise((resolve) => {
        this.askResolve = resolve;
      });
    }

    hideAsk() {
      this.askBox.hidden = true;
      delete this.askBox.dataset.kind;
      const resolve = this.askResolve;
      this.askResolve = null;
      return resolve;
    }

    answer(value) {
      const resolve = this.hideAsk();
      if (resolve) resolve(value);
    }

    // -- actions -----------------------------------------------------------------------------------------
    toggleChip(textarea, phrase, sentenceCase) {
      textarea.value = hasPhrase(textarea.value, phrase)
        ? removePhrase(textarea.value, phrase)
        : addPhrase(textarea.value, phrase, sentenceCase);
      autosize(textarea);
    }

    async onToggle() {
      if (this.toggle.checked) {
        this.setEditing(true);
        this.prompt.focus();
      } else if (this.handEdited && this.prompt.value !== this.composed()) {
        this.toggle.checked = true;
        const yes = await this.ask(
          "discard",
          "Go back to the text composed from the parts? Your edits to the final text will be lost.",
          "Discard my edits",
          "Keep editing",
        );
        if (!yes) return;
        this.setEditing(false);
      } else {
        this.setEditing(false);
      }
      this.refresh();
    }

    async loadTemplate(select) {
      const option = select.selectedOptions[0];
      if (!option || !option.dataset.url) return;
      const name = option.textContent.trim();
      if (this.hasContent()) {
        const yes = await this.ask("replace", `Replace what you have written with “${name}”?`, "Replace", "Cancel");
        if (!yes) {
          select.value = "";
          return;
        }
      }
      let data;
      try {
        const response = await fetch(option.dataset.url, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        data = await response.json();
      } catch (error) {
        this.say(`Couldn't load “${name}” (${error.message}). Try again.`);
        select.value = "";
        return;
      }
      this.fill(data.parts || {}, data.negative || "");
      select.value = "";
      const blanks = blanksIn(compose(data.parts || {}));
      this.say(`Loaded “${data.name}”.${blanks.length ? " Replace the blanks in braces with your own words." : ""}`);
      this.focusFirstBlank();
    }

    fill(parts, negative) {
      for (const [name, textarea] of this.parts) {
        textarea.value = parts[name] || "";
        autosize(textarea);
      }
      if (this.negative) {
        this.negative.value = negative;
        autosize(this.negative);
      }
      this.hideAsk();
      this.setEditing(false);
      this.refresh();
    }

    focusFirstBlank() {
      for (const textarea of this.parts.values()) {
        PLACEHOLDER.lastIndex = 0;
        const m = PLACEHOLDER.exec(textarea.value);
        PLACEHOLDER.lastIndex = 0;
        if (m) {
          textarea.focus();
          textarea.setSelectionRange(m.index, m.index + m[0].length);
          return;
        }
      }
    }

    async clear() {
      if (this.hasContent()) {
        const yes = await this.ask("clear", "Clear every part and the negative prompt?", "Clear all", "Cancel");
        if (!yes) return;
      }
      this.fill({}, "");
      this.say("Cleared.");
    }

    // -- wiring ------------------------------------------------------------------------------------------
    bind() {
      const root = this.root;
      root.addEventListener("input", (event) => {
        const t = event.target;
        if (t.matches("[data-pb-part]")) {
          autosize(t);
          this.refresh();
        } else if (t === this.prompt) {
          this.handEdited = this.prompt.value !== this.composed();
          autosize(t);
          this.renderPreview();
          this.updateCounts();
          this.updateManualNote();
        } else if (t === this.negative) {
          autosize(t);
          this.updateNegative();
          this.updateChips();
        }
      });
      root.addEventListener("change", (event) => {
        if (event.target === this.toggle) this.onToggle();
        else if (event.target.matches("[data-pb-template]")) this.loadTemplate(event.target);
      });
      root.addEventListener("click", (event) => {
        const chip = event.target.closest(".pb-chip");
        if (chip?.dataset.pbChip !== undefined) {
          const textarea = chip.closest("[data-pb-part-wrap]").querySelector("[data-pb-part]");
          this.toggleChip(textarea, chip.dataset.pbChip, true);
          this.refresh();
        } else if (chip?.dataset.pbNegChip !== undefined) {
          this.toggleChip(this.negative, chip.dataset.pbNegChip, false);
          this.updateNegative();
          this.updateChips();
        } else if (event.target.closest("[data-pb-ask-yes]")) this.answer(true);
        else if (event.target.closest("[data-pb-ask-no]")) this.answer(false);
        else if (event.target.closest("[data-pb-clear]")) this.clear();
        else if (event.target.closest("[data-pb-recompose]")) this.recompose();
        else if (event.target.closest("[data-pb-copy]")) {
          navigator.clipboard
            ?.writeText(this.prompt.value)
            .then(() => this.say("Copied the final text."))
            .catch(() => this.say("Couldn't copy; select the text and copy it by hand."));
        }
      });
      root.addEventListener("keydown", (event) => {
        const chip = event.target.closest?.(".pb-chip");
        if (chip) return this.chipKeys(event, chip);
        // Enter in "save as template" saves the template; it must never submit the surrounding job form.
        if (event.key === "Enter" && event.target.matches("[data-pb-save-name], [data-pb-save-description]")) {
          event.preventDefault();
          root.querySelector("[data-pb-save]")?.click();
        }
      });
      this.model?.addEventListener("change", () => this.updateCounts());
      document.addEventListener("htmx:afterSwap", (event) => {
        const target = event.detail?.target;
        if (!target || !root.contains(target) || !target.querySelector("[data-pb-saved]")) return;
        for (const sel of ["[data-pb-save-name]", "[data-pb-save-description]"]) {
          const input = root.querySelector(sel);
          if (input) input.value = "";
        }
      });
    }

    chipKeys(event, chip) {
      const chips = [...chip.closest(".pb-chips").querySelectorAll(".pb-chip")];
      const i = chips.indexOf(chip);
      const next = {
        ArrowRight: i + 1,
        ArrowDown: i + 1,
        ArrowLeft: i - 1,
        ArrowUp: i - 1,
        Home: 0,
        End: chips.length - 1,
      }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = chips[(next + chips.length) % chips.length];
      chip.tabIndex = -1;
      target.tabIndex = 0;
      target.focus();
    }
  }

  const instances = new WeakMap();

  function initAll(scope) {
    const roots = [];
    if (scope?.matches?.("[data-prompt-builder]")) roots.push(scope);
    roots.push(...(scope || document).querySelectorAll("[data-prompt-builder]"));
    for (const root of roots) {
      if (!instances.has(root)) instances.set(root, new Builder(root));
    }
  }

  window.StudioPromptBuilder = {
    PART_NAMES,
    SENTENCE_ENDS,
    CLOSERS,
    compose,
    sentenceStart,
    words,
    wordCount,
    cjkChars,
    CLAUSE_OPENERS: [...CLAUSE_OPENERS],
    joinsSubject,
    charCount,
    addPhrase,
    removePhrase,
    initAll,
    get: (root) => instances.get(root),
  };
  onEveryLoad(initAll);
})();
