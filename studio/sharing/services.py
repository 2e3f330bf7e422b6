from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone

from studio.sharing.models import ShareLink
from studio.workspaces.models import Activity, record

EXPIRY_CHOICES = {"": None, "1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def create_share_link(
    *,
    workspace,
    user,
    generation=None,
    project=None,
    export=None,
    include_recipe: bool = False,
    expires_in: str = "",
) -> ShareLink:
    targets = [t for t in (generation, project, export) if t is not None]
    if len(targets) != 1:
        raise ValidationError("Share either one video, one project or one film.")
    target = targets[0]
    if target.workspace_id != workspace.pk:
        raise ValidationError("That belongs to another workspace.")
    if generation is not None and generation.status != generation.Status.SUCCEEDED:
        raise ValidationError("Only finished videos can be shared.")
    if export is not None and (export.status != export.Status.SUCCEEDED or not export.file):
        raise ValidationError("Only a finished film can be shared.")
    if expires_in not in EXPIRY_CHOICES:
        raise ValidationError("Pick one of the offered expiry times.")
    delta = EXPIRY_CHOICES[expires_in]
    record(
        workspace.pk, user, Activity.Verb.SHARED, summary=str(target), generation=generation, project=project
    )
    scope = (
        ShareLink.Scope.GENERATION
        if generation
        else ShareLink.Scope.PROJECT
        if project
        else ShareLink.Scope.EXPORT
    )
    return ShareLink.objects.create(
        workspace=workspace,
        scope=scope,
        generation=generation,
        project=project,
        export=export,
        include_recipe=include_recipe,
        created_by=user,
        expires_at=timezone.now() + delta if delta else None,
    )


def revoke_share_link(*, link: ShareLink, user=None) -> None:
    if ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        record(
            link.workspace_id,
            user,
            Activity.Verb.REVOKED,
            summary=str(link.generation or link.project or link.export),
        )


def active_link(token: str) -> ShareLink | None:
    """The link for ``token`` if it may be used now; None for anything else (unknown, revoked, expired)."""
    if not token or len(token) > 64:
        return None
    now = timezone.now()
    return (
        ShareLink.objects.select_related("workspace", "generation__prompt", "project", "export__storyboard")
        .filter(token=token, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


def count_view(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)
