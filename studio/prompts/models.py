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


def compose(parts: dict[str, str]) -> str:
    """One paragraph from the parts, in the guide's order (no headings, no bullets)."""
    sentences = []
    for name in PART_NAMES:
        value = " ".join(str(parts.get(name, "")).split())
        if value:
            sentences.append(value if value.endswith((".", "!", "?", "。")) else value + ".")
    return " ".join(sentences)
