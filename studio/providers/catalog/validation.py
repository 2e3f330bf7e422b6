"""The one function that checks a job against its model before any money is spent: ``validate``.

The stages share one ``JobCheck``: the model, the task, the inputs and what was found so far, so every problem
is reported at once.
"""

from __future__ import annotations

import math
from typing import Any

from studio.prompts.counting import CJK_PER_WORD, advised_words, cjk_chars, word_count

from .coerce import _blank, _coerce_param, _coerce_scalar, _requirement_met, _show_choice
from .media import _PROP_WORD, _as_list, _check_media_item, _compare, _describe, _item_name, _slack
from .schema import TASK_LABELS, TASKS, CatalogError, CleanJob, JobRequest, MediaInfo, MediaSlot, Model, Param
from .units import (
    ASPECT_TOLERANCE,
    _article,
    _join_or,
    _num,
    _size_str,
    aspect_label,
    closest_aspect,
    parse_size,
)
from .vendors import get_model, provider_labels

# A seed the model gives no range for still has to fit the column that keeps it (a 64-bit integer).
SEED_LOW, SEED_HIGH = -(2**63), 2**63 - 1


def _bound(given: int | None, column: int) -> int:
    return column if given is None else given


def _resolve_task(
    model: Model, task: str | None, media: dict[str, list[MediaInfo]], errs: JobCheck
) -> str | None:
    t = (task or "").strip().lower()
    if t:
        if t not in TASKS:
            errs.add("task", f"There is no task {task!r}. Tasks: {', '.join(TASKS)}.")
            return None
        if t not in model.tasks:
            errs.add(
                "task",
                f"{model.id} does not do {t} (“{TASK_LABELS[t]}”). It does: {', '.join(model.tasks)}.",
            )
            return None
        return t
    if len(model.tasks) == 1:
        return model.tasks[0]
    if set(model.tasks) == {"i2v", "flf2v"}:
        return "flf2v" if media.get("last_image") else "i2v"
    errs.add("task", f"Choose what {model.id} should do: {', '.join(model.tasks)}.")
    return None


class JobCheck:
    """One validation run: the stages share the model, the task, the inputs and what was found so far."""

    def __init__(self, model: Model, req: JobRequest):
        self.model = model
        self.req = req
        self.errors: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        media = {k: _as_list(v) for k, v in (req.media or {}).items()}
        self.media: dict[str, list[MediaInfo]] = {k: v for k, v in media.items() if v}
        self.raw_params = {k: v for k, v in dict(req.params or {}).items() if v is not None}
        self.task = ""
        self.slots: dict[str, MediaSlot] = {}
        self.defs: dict[str, Param] = {}
        self.prompt = self.negative = ""
        self.size: str | None = None
        self.resolution: str | None = None
        self.duration: int | None = None
        self.seed: int | None = None
        self.given_params: dict[str, Any] = {}
        # Sent uncropped by the person's choice: only where the vendor matches the output to the image.
        self.as_is = set(req.as_is or ()) if model.size_from_image == "exact" else set()
        self.params: dict[str, Any] = {}

    def add(self, key: str, msg: str) -> None:
        self.errors.setdefault(key, []).append(msg)

    def first(self, slot: str) -> MediaInfo | None:
        return (self.media.get(slot) or [None])[0]

    # -- stages ---------------------------------------------------------------------------------------
    def check_prompt(self) -> None:
        m, prompt = self.model, (self.req.prompt or "").strip()
        if not prompt and m.prompt_required:
            self.add("prompt", f"{m.id} needs a prompt: describe the video you want.")
        if m.prompt_max_chars is not None and len(prompt) > m.prompt_max_chars and m.prompt_truncated:
            self.warnings.append(
                f"The prompt is {len(prompt)} characters; only the first {m.prompt_max_chars} characters are "
                f"used ({provider_labels()[m.provider]} cuts the rest)."
            )
        elif m.prompt_max_chars is not None and len(prompt) > m.prompt_max_chars:
            self.add(
                "prompt",
                f"The prompt is {len(prompt)} characters; {m.id} takes at most {m.prompt_max_chars}. "
                f"Shorten it by {len(prompt) - m.prompt_max_chars}.",
            )
        advice, words = advised_words(m.advised_max_words), word_count(prompt)
        if words > advice:
            rule = (
                f" ({CJK_PER_WORD} Chinese or Japanese characters count as one)" if cjk_chars(prompt) else ""
            )
            self.warnings.append(
                f"The prompt has {words} words{rule}; the Wan prompt guide advises at most {advice}. "
                "It will still run."
            )
        negative = (self.req.negative_prompt or "").strip()
        if negative and not m.negative_prompt:
            self.add(
                "negative_prompt", f"{m.id} takes no negative prompt; leave it empty or say it in the prompt."
            )
        elif m.negative_max_chars is not None and len(negative) > m.negative_max_chars:
            self.add(
                "negative_prompt",
                f"The negative prompt is {len(negative)} characters; {m.id} takes at most {m.negative_max_chars}.",
            )
        self.prompt, self.negative = prompt, negative

    def check_size(self) -> None:
        m, task = self.model, self.task
        given = (self.req.size or "").strip() if isinstance(self.req.size, str) else self.req.size
        if m.size_wire_format == "width/height" and (
            "width" in self.raw_params or "height" in self.raw_params
        ):
            w_raw, h_raw = self.raw_params.pop("width", None), self.raw_params.pop("height", None)
            if w_raw in (None, "") or h_raw in (None, ""):
                self.add(
                    "size", f"Give both width and height (the vendor would otherwise use {m.default_size})."
                )
            elif given:
                self.add("size", "Give either a size or width and height, not both.")
            else:
                given = f"{w_raw}x{h_raw}"
        if not given:
            return
        sizes, parsed = m.sizes_for(task), parse_size(str(given))
        if not m.sizes:
            hint = " Choose a resolution instead." if m.resolutions else ""
            self.add("size", f"{m.id} has no size setting.{hint}")
        elif not sizes:
            self.add("size", f"{task} takes no size on {m.id}: the output follows the input video.")
        elif parsed is None:
            self.add("size", f"{given!r} is not a size like 1280x720.")
        elif _size_str(*parsed) not in sizes:
            self.add("size", f"{m.id} makes {', '.join(sizes)}; {_size_str(*parsed)} is not one of them.")
        else:
            self.size = _size_str(*parsed)

    def check_resolution(self) -> None:
        m, given = self.model, self.req.resolution
        if given in (None, ""):
            self.resolution = m.default_resolution  # None: leave it to the vendor
            return
        r = str(given).strip().upper()
        if not m.resolutions:
            hint = " Choose a size instead." if m.sizes else ""
            self.add("resolution", f"{m.id} has no resolution setting.{hint}")
        elif r not in m.resolutions:
            self.add("resolution", f"{m.id} offers {_join_or(m.resolutions)}; {given} is not one of them.")
        else:
            self.resolution = r

    def check_duration(self) -> None:
        m, given = self.model, self.req.duration
        if given in (None, ""):
            self.duration = m.default_duration
            return
        d, e = _coerce_scalar("int", given, "duration")
        if e:
            self.add("duration", f"The duration must be a whole number of seconds; you gave {given!r}.")
        elif not m.durations:
            self.add(
                "duration", f"{m.id} has no duration setting (the vendor documents none); leave it empty."
            )
        elif d not in m.durations:
            if len(m.durations) == 1:
                self.add("duration", f"{m.id} makes {m.durations[0]} s videos only; you asked for {d} s.")
                return
            lo, hi = m.durations[0], m.durations[-1]
            contiguous = len(m.durations) > 2 and list(m.durations) == list(range(lo, hi + 1))
            allowed = f"{lo} to {hi}" if contiguous else _join_or(m.durations)
            self.add("duration", f"{m.id} makes videos of {allowed} s; you asked for {d} s.")
        else:
            self.duration = d

    def check_seed(self) -> None:
        m, given = self.model, self.req.seed
        if given in (None, ""):
            self.seed = m.seed_default
            return
        s, e = _coerce_scalar("int", given, "seed")
        lo, hi = _bound(m.seed_min, SEED_LOW), _bound(m.seed_max, SEED_HIGH)
        if e:
            self.add("seed", f"The seed must be a whole number; you gave {given!r}.")
        elif not lo <= s <= hi:
            self.add("seed", f"The seed for {m.id} must be between {lo} and {hi}; you gave {s}.")
        else:
            self.seed = s

    def check_media(self) -> None:
        m, task, media, slots = self.model, self.task, self.media, self.slots
        for name in media:
            if name not in slots:
                other = m.slot(name)
                if other is not None:
                    self.add(name, f"{task} on {m.id} takes no {other.title}.")
                else:
                    self.add(name, f"{m.id} takes no input called {name!r}.")
        for slot in slots.values():
            items = media.get(slot.name, [])
            if not items:
                if slot.required:
                    self.add(slot.name, f"{m.id} needs {_article(slot.title)} for {task}.")
                continue
            if len(items) > slot.many and slot.keeps_first:
                self.warnings.append(
                    f"{task} uses at most {slot.many} {slot.title}s; you gave {len(items)}, so only the first "
                    f"{slot.many} are used."
                )
            elif len(items) > slot.many:
                extra = f" (the vendor would use only the first {slot.many})" if slot.many > 1 else ""
                plural = "s" if slot.many > 1 else ""
                self.add(
                    slot.name,
                    f"{task} takes at most {slot.many} {slot.title}{plural}; you gave {len(items)}{extra}.",
                )
            check_aspect = slot.name not in self.as_is
            for i, info in enumerate(items, 1):
                name = _item_name(slot, i, len(items))
                for msg in _check_media_item(m, slot, info, name, check_aspect=check_aspect):
                    self.add(slot.name, msg)
                first = slot.limits.uses_first
                if first and info.duration and info.duration > first + _slack(info.fps):
                    self.warnings.append(
                        f"The {_item_name(slot, i, len(items))} lasts {info.duration:.1f} s; only the first "
                        f"{_num(first)} s are used."
                    )
            self._check_same_as(slot, items)
        self._check_groups()
        self._check_media_rules()

    def _check_same_as(self, slot: MediaSlot, items: list[MediaInfo]) -> None:
        """Inputs that must agree with another (mask = video size; clips = motion video fps and size...)."""
        lim = slot.limits
        if not (lim.same_as and self.media.get(lim.same_as) and lim.same_as in self.slots):
            return
        ref, ref_title = self.media[lim.same_as][0], self.slots[lim.same_as].title
        for info in items:
            for prop in lim.same_props:
                if not _compare(prop, info, ref):
                    self.add(
                        slot.name,
                        f"The {slot.title}'s {_PROP_WORD[prop]} ({_describe(prop, info)}) must equal the "
                        f"{ref_title}'s ({_describe(prop, ref)}).",
                    )

    def _check_groups(self) -> None:
        """Summed durations per slot group (VACE: first and last clip together at most 3 s)."""
        groups: dict[str, list[MediaSlot]] = {}
        for slot in self.slots.values():
            if slot.group:
                groups.setdefault(slot.group, []).append(slot)
        for group_slots in groups.values():
            cap = next(
                (s.limits.max_total_duration for s in group_slots if s.limits.max_total_duration), None
            )
            present = [s for s in group_slots if self.media.get(s.name)]
            if cap is None or len(present) < 2:
                continue
            infos = [i for s in present for i in self.media[s.name]]
            total = sum(i.duration or 0.0 for i in infos)
            fps = next((i.fps for i in infos if i.fps), None)
            if total > cap + _slack(fps):
                names = " and ".join(s.title for s in present)
                self.add(
                    present[-1].name,
                    f"The {names} last {total:.1f} s together; at most {_num(cap)} s is allowed. Trim them first.",
                )
            if len({round(i.fps, 2) for i in infos if i.fps}) > 1:
                self.warnings.append(
                    "The clips have different frame rates; the vendor advises using the same one."
                )

    def _check_media_rules(self) -> None:
        for rule, rule_slots, rule_tasks in self.model.media_rules:
            if self.task not in rule_tasks:
                continue
            given = [s for s in rule_slots if self.media.get(s)]
            titles = [self.slots[s].title if s in self.slots else s for s in rule_slots]
            if rule == "exactly_one" and len(given) > 1:
                self.add(
                    given[-1], f"{self.task} takes either {_join_or(_article(t) for t in titles)}, not both."
                )
            elif rule == "exactly_one" and not given:
                self.add(
                    rule_slots[0],
                    f"{self.task} needs {_join_or(_article(t) for t in titles)} to mark the area to edit.",
                )
            elif rule == "at_least_one" and not given:
                self.add(rule_slots[0], f"{self.task} needs at least one of: {', '.join(titles)}.")

    def check_params(self) -> None:
        task, defs = self.task, self.defs
        for name, value in self.raw_params.items():
            p = defs.get(name)
            if p is None:
                self._unknown_param(name)
                continue
            if _blank(p, value):
                continue  # an empty form field means "not given"
            v, errs = _coerce_param(p, value)
            for msg in errs:
                self.add(name, msg)
            if not errs:
                self.given_params[name] = v
        # defaults and conditions, in declaration order (mask_type before expand_*)
        for name, p in defs.items():
            ok, why = _requirement_met(p.requires, self.params, self.media, defs)
            if name in self.given_params:
                if not ok:
                    self.add(name, f"{name} does not apply here: {why}.")
                    continue
                self.params[name] = self.given_params[name]
            elif ok and p.default is not None:
                self.params[name] = p.default
            missing = self.params.get(name) in (None, "", []) and name not in self.errors
            if p.required and missing:
                choices = f": one of {', '.join(_show_choice(c) for c in p.choices)}" if p.choices else ""
                self.add(name, f"{task} needs {name}{choices}.")
            elif p.required_with and self.media.get(p.required_with) and missing:
                slot = self.slots.get(p.required_with)
                self.add(
                    name,
                    f"{name} is required when you give {_article(slot.title if slot else p.required_with)}.",
                )

    def _unknown_param(self, name: str) -> None:
        m = self.model
        other = [p for p in m.params if p.name == name]
        by_wire = {w.split(".")[-1]: f for f, w in m.wire if w}
        if other:
            tasks = sorted({t for p in other for t in (p.tasks or m.tasks)})
            self.add(name, f"{name} is for {', '.join(tasks)} only, not {self.task}.")
        elif by_wire.get(name, name) != name:
            self.add(name, f"Set {name} through the {by_wire[name]} field, not as an extra setting.")
        else:
            known = ", ".join(self.defs) or "none"
            self.add(name, f"{m.id} has no setting {name!r}. Its settings for {self.task}: {known}.")

    def resolve_size(self) -> None:
        """Size from the first frame (``size_from_image``: "exact" keeps its aspect, "closest" takes the nearest
        size), else the model's default (not for a task whose output keeps its input's size), else ask."""
        m, sizes, image = self.model, self.model.sizes_for(self.task), self.first("image")
        if image is None and m.size_from_image == "closest":
            # A "closest" model follows its input (a video, an extension's first frame) when no size is given.
            image = next(
                (self.first(s.name) for s in self.slots.values() if s.shapes_output and self.first(s.name)),
                None,
            )
        usable = image is not None and image.width and image.height and "image" not in self.errors
        if m.size_from_image and sizes and usable:
            img_aspect = aspect_label(image.width, image.height)
            if m.size_from_image == "exact":
                by_aspect = {aspect_label(*parse_size(s)): s for s in sizes}
                label, error = closest_aspect(image.width, image.height, tuple(by_aspect))
                wanted = by_aspect[label] if error <= ASPECT_TOLERANCE else None
                if wanted is None and "image" in self.as_is and "size" not in self.errors:
                    # Sent as is: the vendor picks the size from the image [000]; ask for the closest.
                    wanted = self.size or by_aspect[label]
                    self.size = wanted
                    self.warnings.append(
                        f"The first frame is sent as is, {img_aspect} ({image.width}x{image.height}) and "
                        f"uncropped: {provider_labels()[m.provider]} matches the video to the image's shape "
                        f"on its own and recommends {_join_or(by_aspect)}, so the result may not be {wanted}."
                    )
                elif self.size is None and wanted is not None and "size" not in self.errors:
                    self.size = wanted
                elif self.size is not None and wanted is not None and self.size != wanted:
                    self.add(
                        "size",
                        f"The first frame is {img_aspect} ({image.width}x{image.height}) but {self.size} is "
                        f"{aspect_label(*parse_size(self.size))}; {m.id} matches the size to the image. "
                        f"Choose {wanted} or leave the size empty.",
                    )
            else:
                ratio = image.width / image.height
                if self.size is None and "size" not in self.errors:
                    self.size = min(sizes, key=lambda s: abs(math.log(ratio / _size_ratio(s))))
                if self.size is not None and abs(ratio / _size_ratio(self.size) - 1) > ASPECT_TOLERANCE:
                    self.warnings.append(
                        f"The first frame is {img_aspect} ({image.width}x{image.height}); the preview crops it "
                        f"to {self.size}."
                    )
        if self.size is None and sizes and "size" not in self.errors and self.task not in m.input_sized_tasks:
            if m.default_size:
                self.size = m.default_size
            elif not (m.size_from_image and not usable):
                self.add("size", f"{m.id} needs a size: {_join_or(sizes)}.")

    def cross_rules(self) -> None:
        self._last_frame_aspect()
        self._sound()
        for param in self.defs.values():  # each setting's own rule, from the vendor's package
            if param.check is not None:
                param.check(self)

    def _last_frame_aspect(self) -> None:
        image, last = self.first("image"), self.first("last_image")
        if not (image and last and image.width and image.height and last.width and last.height):
            return
        if abs((image.width / image.height) / (last.width / last.height) - 1) > ASPECT_TOLERANCE:
            self.warnings.append(
                f"The last frame is {aspect_label(last.width, last.height)} but the first frame is "
                f"{aspect_label(image.width, image.height)}; the last frame will be cropped to fit."
            )

    def _sound(self) -> None:
        audio, duration = self.first("audio"), self.duration
        if audio is not None and "audio" in self.defs:
            if self.given_params.get("audio") is False:
                self.warnings.append(
                    "An audio file is given, so audio=false is ignored: the video follows the file."
                )
            if audio.duration and duration and audio.duration > duration + 0.05:
                self.warnings.append(
                    f"The audio lasts {audio.duration:.1f} s; only the first {duration} s are used."
                )
            elif audio.duration and duration and audio.duration < duration - 0.05:
                self.warnings.append(
                    f"The audio lasts {audio.duration:.1f} s; the rest of the {duration} s video will be silent."
                )

    def result(self) -> CleanJob:
        media: dict[str, MediaInfo | list[MediaInfo]] = {}
        for name, items in self.media.items():
            slot = self.slots[name]
            media[name] = list(items) if (slot.is_list or slot.many > 1) else items[0]
        width, height = parse_size(self.size) if self.size else (None, None)
        return CleanJob(
            provider=self.model.provider,
            model=self.model.id,
            task=self.task,
            prompt=self.prompt,
            negative_prompt=self.negative,
            size=self.size,
            resolution=self.resolution,
            duration=self.duration,
            seed=self.seed,
            params=self.params,
            media=media,
            width=width,
            height=height,
            fps=self.model.fps,
            warnings=self.warnings,
        )


def _size_ratio(size: str) -> float:
    w, h = parse_size(size)
    return w / h


def validate(req: JobRequest) -> CleanJob:
    """Check a job against the catalogue before any money is spent; fill defaults and coerce types.

    Raises CatalogError with every problem found (field -> messages; "__all__" for general ones). Advice
    (e.g. a vendor's advised prompt length in words) goes to ``CleanJob.warnings`` instead.
    """
    model = get_model(req.provider, req.model)
    check = JobCheck(model, req)
    task = _resolve_task(model, req.task, check.media, check)
    if task is None:
        raise CatalogError(check.errors)
    check.task = task
    check.slots = model.media_for(task)
    check.defs = model.params_for(task)
    check.check_prompt()
    check.check_size()
    check.check_resolution()
    check.check_duration()
    check.check_seed()
    check.check_media()
    check.check_params()
    check.resolve_size()
    check.cross_rules()
    if check.errors:
        raise CatalogError(check.errors)
    return check.result()
