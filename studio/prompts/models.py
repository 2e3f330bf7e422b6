import re
import unicodedata

from django.conf import settings
from django.db import models

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


def compose(parts: dict[str, str]) -> str:
    """One paragraph from the parts, in the guide's order (no headings, no bullets).

    Each part becomes a sentence: whitespace runs collapse to one space, the first letter is capitalised
    (:func:`sentence_start`) and a full stop is added unless the part already ends a sentence. The builder's
    script (``static/js/prompt-builder.js``) does exactly the same for the live preview.
    """
    sentences = []
    for name in PART_NAMES:
        value = " ".join(str(parts.get(name, "")).split())
        if value:
            value = sentence_start(value)
            sentences.append(value if SENTENCE_END.search(value) else value + ".")
    return " ".join(sentences)
