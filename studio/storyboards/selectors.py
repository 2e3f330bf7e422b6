"""Reads for storyboards: every query filtered on the caller's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from studio.storyboards.models import Chain, Export, Shot, Storyboard
from studio.workspaces.access import get_membership


def storyboards_of(*, workspace, project=None) -> QuerySet[Storyboard]:
    query = Storyboard.objects.filter(workspace_id=workspace.pk).select_related("project")
    return query.filter(project_id=project.pk) if project is not None else query


def storyboard_of(*, workspace, public_id: str) -> Storyboard | None:
    return storyboards_of(workspace=workspace).filter(public_id=public_id).first()


def shots_of(*, storyboard: Storyboard) -> QuerySet[Shot]:
    return (
        Shot.objects.filter(storyboard_id=storyboard.pk, storyboard__workspace_id=storyboard.workspace_id)
        .select_related("take__prompt", "storyboard")
        .prefetch_related("takes__generation")
        .order_by("position")
    )


def shot_of(*, workspace, storyboard: Storyboard, public_id: str) -> Shot | None:
    return (
        Shot.objects.filter(
            storyboard_id=storyboard.pk, storyboard__workspace_id=workspace.pk, public_id=public_id
        )
        .select_related("storyboard", "take")
        .first()
    )


def latest_chain(*, storyboard: Storyboard) -> Chain | None:
    return (
        Chain.objects.filter(storyboard_id=storyboard.pk, storyboard__workspace_id=storyboard.workspace_id)
        .select_related("failed_shot")
        .first()
    )


def exports_of(*, storyboard: Storyboard) -> QuerySet[Export]:
    return Export.objects.filter(storyboard_id=storyboard.pk, workspace_id=storyboard.workspace_id)


def export_of(*, workspace, public_id: str) -> Export | None:
    return (
        Export.objects.filter(workspace_id=workspace.pk, public_id=public_id)
        .select_related("storyboard")
        .first()
    )


def get_storyboard_for_user(request, slug: str, public_id: str, *, write: bool = False):
    """(membership, storyboard) through the one door: not a member 404, a viewer writing 403."""
    membership = get_membership(request, slug, write=write)
    storyboard = storyboard_of(workspace=membership.workspace, public_id=public_id)
    if storyboard is None:
        raise Http404("No such storyboard.")
    return membership, storyboard


def get_export_for_user(request, slug: str, public_id: str) -> Export:
    membership = get_membership(request, slug)
    export = export_of(workspace=membership.workspace, public_id=public_id)
    if export is None:
        raise Http404("No such export.")
    return export
