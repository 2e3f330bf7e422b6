from django.conf import settings
from django.db import models

from studio.ids import new_public_id


class Project(models.Model):
    """A shelf of prompts and generations inside a workspace."""

    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["archived_at", "-created_at"]
        indexes = [models.Index(fields=["workspace", "archived_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
