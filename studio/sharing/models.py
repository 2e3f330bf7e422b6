from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.ids import new_token


class ShareLink(models.Model):
    """A public, revocable window onto one generation, one project's gallery or one storyboard's film.

    The token is 256 random bits; it is the only thing the public pages look at (never the session).
    """

    class Scope(models.TextChoices):
        GENERATION = "generation", "One video"
        PROJECT = "project", "A project's gallery"
        EXPORT = "export", "A storyboard's film"

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="share_links"
    )
    scope = models.CharField(max_length=12, choices=Scope.choices)
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    export = models.ForeignKey(
        "storyboards.Export", on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    include_recipe = models.BooleanField(default=False, help_text="Show the prompt and settings to viewers.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        scope="generation",
                        generation__isnull=False,
                        project__isnull=True,
                        export__isnull=True,
                    )
                    | models.Q(
                        scope="project", project__isnull=False, generation__isnull=True, export__isnull=True
                    )
                    | models.Q(
                        scope="export", export__isnull=False, generation__isnull=True, project__isnull=True
                    )
                ),
                name="share_link_has_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"share link for {self.generation or self.project or self.export}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"
