from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.ids import new_token

DEFAULT_MAX_IN_FLIGHT = 50


class Workspace(models.Model):
    """A team: the unit that owns projects, generations, keys and share links."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # Limits an owner sets (studio/generations/limits.py): a cap on jobs in flight, and a monthly budget
    # for the estimated spend on paid providers. Empty means no limit.
    max_jobs_in_flight = models.PositiveIntegerField(null=True, blank=True, default=DEFAULT_MAX_IN_FLIGHT)
    monthly_budget = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")]
        ordering = ["workspace__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.EDITOR)

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


def _invite_expiry():
    return timezone.now() + timedelta(days=7)


class Invite(models.Model):
    """A single-use link that makes whoever opens it (logged in) a member with ``role``."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.EDITOR)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invite_expiry)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invite to {self.workspace} as {self.role} ({self.state})"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class Activity(models.Model):
    """What happened in a workspace, for its feed: who generated, shared, invited, joined."""

    class Verb(models.TextChoices):
        GENERATED = "generated", "started a video"
        SHARED = "shared", "shared"
        REVOKED = "revoked", "revoked a share link to"
        INVITED = "invited", "created an invite"
        JOINED = "joined", "joined the workspace"
        LEFT = "left", "left the workspace"
        DELETED = "deleted", "deleted a video"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=16, choices=Verb.choices)
    summary = models.CharField(max_length=200, blank=True)
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="activity_recent")]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_verb_display()} {self.summary}"


def record(workspace_id: int, actor, verb: str, *, summary: str = "", generation=None, project=None) -> None:
    """Add one line to a workspace's feed."""
    Activity.objects.create(
        workspace_id=workspace_id,
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        summary=summary[:200],
        generation=generation,
        project=project,
    )
