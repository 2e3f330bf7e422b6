"""Settings values as creators type them (text from a form, JSON, numbers), turned into the types a
model's Param asks for, with the range, choice and condition checks."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .schema import MediaInfo, Param
from .units import _article, _join_or, _num, _show_choice

_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f"}


def _coerce_scalar(ptype: str, value: Any, label: str) -> tuple[Any, str | None]:
    if ptype == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE, None
        return None, f"{label} must be true or false; you gave {value!r}."
    if ptype == "int":
        if isinstance(value, bool):
            return None, f"{label} must be a whole number; you gave {value!r}."
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value), None
        return None, f"{label} must be a whole number; you gave {value!r}."
    if ptype == "float":
        if isinstance(value, bool):
            return None, f"{label} must be a number; you gave {value!r}."
        try:
            f = float(value)
        except (TypeError, ValueError):
            return None, f"{label} must be a number; you gave {value!r}."
        if not math.isfinite(f):
            return None, f"{label} must be a finite number; you gave {value!r}."
        return f, None
    if ptype in ("str", "choice"):
        if isinstance(value, (dict, list, tuple, set)):
            return None, f"{label} must be text; you gave {value!r}."
        return str(value).strip(), None
    raise ValueError(ptype)


def _check_range(p: Param, value: Any, label: str) -> str | None:
    lo, hi = p.min, p.max
    if lo is not None and hi is not None and not (lo <= value <= hi):
        return f"{label} must be between {_num(lo)} and {_num(hi)}; you gave {_num(value)}."
    if lo is not None and value < lo:
        return f"{label} must be at least {_num(lo)}; you gave {_num(value)}."
    if hi is not None and value > hi:
        return f"{label} must be at most {_num(hi)}; you gave {_num(value)}."
    return None


def _coerce_param(p: Param, value: Any, label: str | None = None) -> tuple[Any, list[str]]:
    label = label or p.name
    if p.type == "list":
        items = value
        if isinstance(items, str):
            text = items.strip()
            if text.startswith("[") or text.startswith("{"):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as exc:
                    return None, [f"{label} is not valid JSON ({exc.msg})."]
                if isinstance(items, dict):
                    items = [items]
            elif p.items:
                return None, [f'{label} must be a JSON list, e.g. [{{"path": "...", "scale": 1.0}}].']
            else:
                items = [s.strip() for s in text.split(",") if s.strip()]
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list):
            return None, [f"{label} must be a list; you gave {value!r}."]
        errs: list[str] = []
        if p.max_items is not None and len(items) > p.max_items:
            errs.append(f"{label} takes at most {p.max_items} entries; you gave {len(items)}.")
        out = []
        for i, item in enumerate(items, 1):
            ilabel = f"{label} entry {i}"
            if p.items:
                if not isinstance(item, dict):
                    errs.append(f"{ilabel} must be an object with {', '.join(q.name for q in p.items)}.")
                    continue
                known = {q.name: q for q in p.items}
                for k in item:
                    if k not in known:
                        errs.append(f"{ilabel} has an unknown key {k!r}; allowed: {', '.join(known)}.")
                obj = {}
                for q in p.items:
                    if item.get(q.name) in (None, ""):
                        if q.required:
                            errs.append(f"{ilabel} needs {q.name}.")
                        continue
                    v, e = _coerce_param(q, item[q.name], f"{ilabel} {q.name}")
                    errs.extend(e)
                    if not e:
                        obj[q.name] = v
                out.append(obj)
            else:
                v, e = _coerce_scalar("str", item, ilabel)
                if e:
                    errs.append(e)
                    continue
                if p.choices is not None and v not in p.choices:
                    errs.append(
                        f"{ilabel} must be {_join_or(_show_choice(c) for c in p.choices)}; you gave {v!r}."
                    )
                    continue
                out.append(v)
        return (out if not errs else None), errs
    v, e = _coerce_scalar(p.type, value, label)
    if e:
        return None, [e]
    if p.type == "choice" and p.choices is not None:
        choices = p.choices
        if v not in choices:
            lowered = {str(c).lower(): c for c in choices}
            if str(v).lower() in lowered:
                v = lowered[str(v).lower()]
            else:
                return None, [
                    f"{label} must be one of {', '.join(_show_choice(c) for c in choices)}; you gave {v!r}."
                ]
    if p.type in ("int", "float"):
        msg = _check_range(p, v, label)
        if msg:
            return None, [msg]
    return v, []


def _requirement_met(
    req: str, params: dict[str, Any], media: dict[str, list[MediaInfo]], defs: dict[str, Param]
) -> tuple[bool, str]:
    """(met, why-not) for a Param.requires expression."""
    if not req:
        return True, ""
    if "=" in req:
        name, want = req.split("=", 1)
        have = params.get(name)
        if have == want:
            return True, ""
        if have is None and name in defs:
            ok, why = _requirement_met(defs[name].requires, params, media, defs)
            if not ok:
                return False, why
        if have is None:
            return False, f"it works only with {name} {want}"
        return False, f"it works only with {name} {want}, and {name} is {have}"
    if media.get(req):
        return True, ""
    return False, f"it works only with {_article(req.replace('_', ' '))}"


def _blank(p: Param, value: Any) -> bool:
    """An empty string is a value only for text settings (and choices that list "")."""
    if not (isinstance(value, str) and not value.strip()):
        return False
    return p.type not in ("str", "choice") or (p.type == "choice" and "" not in (p.choices or ()))
