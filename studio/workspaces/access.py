"""The one door to workspace data.

Every view that touches a workspace's objects begins with one of these calls. Each is a single query
joined through Membership: a user who is not a member gets 404 (so existence is not revealed), a member
whose role does not allow the action gets 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from studio.workspaces.models import Membership

if TYPE_CHECKING:
    from django.http import HttpRequest

    from studio.generations.models import Generation
    from studio.projects.models import Project


def get_membership(
    request: HttpRequest, slug: str, *, write: bool = False, owner: bool = False
) -> Membership:
    """The caller's membership of workspace ``slug`` (with the workspace joined in)."""
    if not request.user.is_authenticated:
        raise Http404
    try:
        membership = Membership.objects.select_related("workspace").get(
            workspace__slug=slug, user_id=request.user.pk
        )
    except Membership.DoesNotExist:
        raise Http404("No such workspace.") from None
    if owner and not membership.is_owner:
        raise PermissionDenied("Only the workspace's owners can do this.")
    if write and not membership.can_write:
        raise PermissionDenied("Viewers can look but not change anything in this workspace.")
    return membership


def get_project_for_user(
    request: HttpRequest, slug: str, public_id: str, *, write: bool = False
) -> tuple[Membership, Project]:
    from studio.projects.models import Project

    membership = get_membership(request, slug, write=write)
    try:
        project = Project.objects.get(workspace_id=membership.workspace_id, public_id=public_id)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
    return membership, project


def get_generation_for_user(
    request: HttpRequest, slug: str, public_id: str, *, write: bool = False
) -> Generation:
    """A generation of workspace ``slug`` by its public id, with its prompt, project and workspace."""
    from studio.generations.models import Generation

    membership = get_membership(request, slug, write=write)
    generation = (
        Generation.objects.select_related("prompt", "project", "workspace")
        .filter(workspace_id=membership.workspace_id, public_id=public_id)
        .first()
    )
    if generation is None:
        raise Http404("No such generation.")
    return generation


def remember_workspace(request, slug: str) -> None:
    """Note the workspace last used, for the home page; written only when it changes (a session write
    on every page view would make each view a database write)."""
    if request.session.get("workspace") != slug:
        request.session["workspace"] = slug
