"""Reading what a request sends, within bounds: numbers and JSON from query strings and forms.

Python's own parsers accept more than a studio should take from a stranger: ``int()`` reads "²",
full-width digits and 5,000-digit numbers; ``json.loads`` recurses once per bracket. Each of those became a
500 somewhere. These return None or raise ValueError with a message for the person instead.
"""

from __future__ import annotations

import json
from typing import Any


def whole_number(text: str | None, *, low: int = 0, high: int = 2**63 - 1) -> int | None:
    """``text`` as an integer from ``low`` to ``high`` if it is plain ASCII digits, else None."""
    text = (text or "").strip()
    if not (0 < len(text) <= len(str(high)) and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def small_json(text: str, *, max_chars: int = 20_000, max_depth: int = 8) -> Any:
    """``text`` parsed as JSON if it is at most ``max_chars`` long and nested at most ``max_depth`` deep;
    ValueError (with a message for the person) otherwise."""
    if len(text) > max_chars:
        raise ValueError(f"It is {len(text):,} characters long; at most {max_chars:,} are read.")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"It is nested far deeper than {max_depth} levels.") from None
    if _depth(value) > max_depth:
        raise ValueError(f"It is nested deeper than {max_depth} levels.")
    return value
