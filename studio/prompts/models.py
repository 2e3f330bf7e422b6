import re
import unicodedata

from django.conf import settings
from django.db import models

from studio.prompts.counting import CJK_CHARS

# The parts of a prompt, in the order the vendor's guide builds one paragraph from them.
PARTS = (
    ("subject", "Subject and appearance"),
    ("action", "Main action"),
    ("details", "Gestures and details"),
    ("scene", "Background and scene"),
    ("camera", "Camera: shot, angle, movement"),
    ("lighting", "Lighting and colour"),
    ("style", "Overall look and style"),
    ("changes", "Changes over time"),
)
PART_NAMES = tuple(name for name, _ in PARTS)


class Prompt(models.Model):
    """What a generation ran with. Immutable once used: editing makes a new Prompt."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="prompts")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="prompts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    parts = models.JSONField(default=dict, blank=True)
    text = models.TextField()
    negative = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def camera(self) -> str:
        return str(self.parts.get("camera", ""))


class PromptTemplate(models.Model):
    """A reusable set of parts; workspace-owned, or built in (workspace is null)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="prompt_templates",
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    parts = models.JSONField(default=dict)
    negative = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# A part that already ends a sentence gets no full stop. Sentence ends: . ! ? and the ellipsis, the CJK full
# stop 。, the full-width exclamation mark, question mark and full stop, and the half-width ideographic full
# stop. Closing quotes or brackets may follow (“She said "stop."”, “(twice!)”, “「走吧。」”). The builder's
# script keeps the same two lists.
SENTENCE_ENDS = ".!?\u2026\u3002\uff01\uff1f\uff0e\uff61"
CLOSERS = (
    "\"')]}\u00bb\u2019\u201d\u203a"
    "\u3009\u300b\u300d\u300f\u3011\u3015\u3017\u3019\u301b\uff02\uff07\uff09\uff3d\uff5d"
)
SENTENCE_END = re.compile(f"[{re.escape(SENTENCE_ENDS)}][{re.escape(CLOSERS)}]*\\Z")


def sentence_start(text: str) -> str:
    """``text`` with its first letter capitalised, and nothing else changed.

    Only a lower-case letter whose capital is a single character changes ("a dog" -> "A dog"); a part that
    starts with anything else (a digit, a quote, a ``{blank}``, a CJK character) is left as typed, and so is
    a first word that already has a capital inside it ("iPhone", "eBay").
    """
    if not text or unicodedata.category(text[0]) != "Ll":
        return text
    upper = text[0].upper()
    if len(upper) != 1:  # "ß" -> "SS": leave it
        return text
    first_word = text.split(" ", 1)[0]
    if any(unicodedata.category(c) == "Lu" for c in first_word[1:]):
        return text
    return upper + text[1:]


# The guide [000] opens a prompt with one sentence of the main action. So the subject and the action make
# that first sentence ("A young woman in a denim jacket" + "walks toward the camera"), unless the action
# reads as a sentence of its own: it starts with a capital, a digit, a quote or a {blank}, or with a word
# that begins a new clause (a pronoun, an article, a determiner), or the subject already ends a sentence.
# The builder's script keeps the same word list.
CLAUSE_OPENERS = frozenset(
    [
        "a",
        "an",
        "the",
        "he",
        "she",
        "it",
        "they",
        "we",
        "i",
        "you",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "its",
        "their",
        "my",
        "our",
        "your",
        "there",
        "here",
        "some",
    ]
)
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")


def _first_word(text: str) -> str:
    return re.sub(r"[^\w'-]+\Z", "", text.split(" ", 1)[0])


def joins_subject(subject: str, action: str) -> bool:
    """Whether the (whitespace-collapsed) ``action`` continues the ``subject``'s sentence."""
    if not subject or not action or SENTENCE_END.search(subject):
        return False
    if _CJK_CHAR.match(action[0]):
        return True
    if unicodedata.category(action[0]) != "Ll":
        return False
    word = _first_word(action)
    if any(unicodedata.category(c) == "Lu" for c in word):  # "eBay": a name, a sentence of its own
        return False
    return word.lower() not in CLAUSE_OPENERS


def _joined(subject: str, action: str) -> str:
    cjk = _CJK_CHAR.match(subject[-1]) and _CJK_CHAR.match(action[0])
    return subject + ("" if cjk else " ") + action


def compose(parts: dict[str, str]) -> str:
    """One paragraph from the parts, in the guide's order (no headings, no bullets).

    The subject and the main action open it as one sentence when the action continues the subject
    (:func:`joins_subject`); every other part is a sentence of its own. Whitespace runs collapse to one
    space, the first letter is capitalised (:func:`sentence_start`) and a full stop is added unless the text
    already ends a sentence. The builder's script (``static/js/prompt-builder.js``) does exactly the same for
    the live preview.
    """
    values = {name: " ".join(str(parts.get(name, "")).split()) for name in PART_NAMES}
    if joins_subject(values["subject"], values["action"]):
        values["subject"], values["action"] = _joined(values["subject"], values["action"]), ""
    sentences = []
    for name in PART_NAMES:
        value = values[name]
        if value:
            value = sentence_start(value)
            sentences.append(value if SENTENCE_END.search(value) else value + ".")
    return " ".join(sentences)
