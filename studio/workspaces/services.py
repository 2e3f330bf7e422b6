"""Writes for workspaces, memberships and invites. Views and commands call these; nothing else writes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from studio.workspaces.models import Activity, Invite, Membership, Workspace, record

User = get_user_model()
Role = Membership.Role


def unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_workspace(*, name: str, owner, slug: str | None = None) -> Workspace:
    workspace = Workspace.objects.create(slug=slug or unique_slug(name), name=name.strip())
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


@transaction.atomic
def ensure_workspace(*, slug: str, name: str | None = None, owner=None) -> tuple[Workspace, bool]:
    """Idempotent: the workspace ``slug`` exists afterwards, with ``owner`` as an owner if given."""
    workspace, created = Workspace.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    if owner is not None:
        Membership.objects.update_or_create(workspace=workspace, user=owner, defaults={"role": Role.OWNER})
    return workspace, created


def _owner_count(workspace_id: int) -> int:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).count()


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError("Unknown role.")
    # Lock the workspace's owner rows so two owners demoting each other at once cannot leave none.
    list(Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id, role=Role.OWNER))
    if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(membership.workspace_id) <= 1:
        raise ValidationError("A workspace needs at least one owner. Make someone else an owner first.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    list(Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id, role=Role.OWNER))
    if membership.role == Role.OWNER and _owner_count(membership.workspace_id) <= 1:
        raise ValidationError("The last owner cannot leave. Make someone else an owner first.")
    record(membership.workspace_id, membership.user, Activity.Verb.LEFT, summary=membership.user.username)
    membership.delete()


def create_invite(*, workspace: Workspace, role: str, created_by) -> Invite:
    if role not in Role.values:
        raise ValidationError("Unknown role.")
    record(workspace.pk, created_by, Activity.Verb.INVITED, summary=f"as {role}")
    return Invite.objects.create(workspace=workspace, role=role, created_by=created_by)


def revoke_invite(*, invite: Invite) -> None:
    Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def accept_invite(*, token: str, user) -> Membership:
    """Single use: a conditional UPDATE marks the invite taken, so two people racing get one seat."""
    invite = Invite.objects.select_related("workspace").filter(token=token).first()
    if invite is None or not invite.is_usable:
        raise ValidationError("This invite link is not valid any more. Ask for a new one.")
    existing = Membership.objects.filter(workspace=invite.workspace, user=user).first()
    if existing:
        return existing
    taken = Invite.objects.filter(pk=invite.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        accepted_at=timezone.now(), accepted_by=user
    )
    if taken != 1:
        raise ValidationError("This invite link has just been used. Ask for a new one.")
    try:
        with transaction.atomic():  # a savepoint: a lost race must not break the outer transaction
            membership = Membership.objects.create(workspace=invite.workspace, user=user, role=invite.role)
        record(invite.workspace_id, user, Activity.Verb.JOINED, summary=f"as {invite.role}")
        return membership
    except IntegrityError:
        return Membership.objects.get(workspace=invite.workspace, user=user)
