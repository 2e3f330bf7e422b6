"""How long a prompt is in words, for the prompt guide's advice, in Chinese and Japanese too.

The Wan prompt guide [000] advises keeping a prompt under 200 words. Its advice is about the model, not
one vendor, so the studio shows it for every model. Chinese and Japanese are written without spaces, so
splitting on whitespace would call a whole Chinese paragraph one word. The rule chosen:

- every Han character, hiragana or katakana counts as half a word (two characters are one word, about
  the length of a common Chinese word), rounded up;
- CJK punctuation (the ideographic full stop and comma, corner brackets, the full-width marks) counts
  as nothing, like a full stop in English;
- everything else is split on whitespace as Python's ``str.split()`` does (Korean writes spaces between
  words, so Hangul is counted like any other script).

So 200 words is about 400 Chinese characters. ``static/js/prompt-builder.js`` counts the same way (the
browser test checks both agree). Pure Python: the catalogue's validation reads it too.
"""

from __future__ import annotations

import math
import re

#: [000]: "keep the prompt within 200 words"; a warning, never a refusal
GUIDE_ADVISED_WORDS = 200
#: CJK characters that make one word
CJK_PER_WORD = 2

# Han (with extensions A-H and the compatibility ideographs), hiragana, katakana (and its extensions and
# the half-width forms). The builder's script keeps the same ranges.
CJK_CHARS = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
    "\U00020000-\U0003134f"
)
# CJK symbols and punctuation, and the full-width punctuation marks.
CJK_PUNCT = "\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_CJK = re.compile(f"[{CJK_CHARS}]")
_CJK_OR_PUNCT = re.compile(f"[{CJK_CHARS}{CJK_PUNCT}]")


def cjk_chars(text: str) -> int:
    """How many Chinese or Japanese characters ``text`` has."""
    return len(_CJK.findall(text or ""))


def word_count(text: str) -> int:
    """The prompt's length in words: whitespace-separated words, plus one per two CJK characters."""
    text = text or ""
    rest = _CJK_OR_PUNCT.sub(" ", text)
    return len(rest.split()) + math.ceil(cjk_chars(text) / CJK_PER_WORD)


def advised_words(model_advice: int | None) -> int:
    """The advice to show for a model: its vendor's own figure when it states one, else the guide's."""
    return model_advice or GUIDE_ADVISED_WORDS
