from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.http import AuthenticatedRequest
from studio.projects.models import Project
from studio.workspaces import services
from studio.workspaces.access import get_membership, remember_workspace
from studio.workspaces.forms import InviteForm, RoleForm, WorkspaceForm
from studio.workspaces.models import Activity, Invite, Membership


@require_GET
def home(request: AuthenticatedRequest):
    """Straight into the last workspace used, or to the first-workspace page."""
    memberships = list(Membership.objects.filter(user=request.user).select_related("workspace"))
    last = request.session.get("workspace")
    for m in memberships:
        if m.workspace.slug == last:
            return redirect("workspaces:detail", slug=last)
    if len(memberships) >= 1:
        return redirect("workspaces:detail", slug=memberships[0].workspace.slug)
    return redirect("workspaces:create")


@require_http_methods(["GET", "POST"])
def workspace_create(request: AuthenticatedRequest):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.create_workspace(name=form.cleaned_data["name"], owner=request.user)
        messages.success(request, f"Workspace “{workspace.name}” is ready.")
        return redirect("workspaces:detail", slug=workspace.slug)
    return render(request, "workspaces/create.html", {"form": form})


@require_GET
def workspace_detail(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug)
    remember_workspace(request, slug)
    show_archived = request.GET.get("archived") == "1"
    projects = Project.objects.filter(
        workspace_id=membership.workspace_id, archived_at__isnull=not show_archived
    )
    return render(
        request,
        "workspaces/detail.html",
        {
            "membership": membership,
            "workspace": membership.workspace,
            "projects": projects,
            "show_archived": show_archived,
        },
    )


@require_GET
def members(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug)
    workspace = membership.workspace
    context = {
        "membership": membership,
        "workspace": workspace,
        "members": workspace.memberships.select_related("user").order_by("user__username"),
        "roles": Membership.Role.choices,
        "invite_form": InviteForm(),
        "invites": workspace.invites.select_related("accepted_by") if membership.is_owner else [],
    }
    return render(request, "workspaces/members.html", context)


def _member(membership: Membership, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=member_id, workspace_id=membership.workspace_id
    )


@require_POST
def member_role(request: AuthenticatedRequest, slug: str, member_id: int):
    membership = get_membership(request, slug, owner=True)
    target = _member(membership, member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.change_role(membership=target, role=form.cleaned_data["role"])
            messages.success(request, f"{target.user.username} is now {target.get_role_display().lower()}.")
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
    else:
        messages.error(request, "Pick one of the roles.")
    return redirect("workspaces:members", slug=slug)


@require_POST
def member_remove(request: AuthenticatedRequest, slug: str, member_id: int):
    membership = get_membership(request, slug)
    target = _member(membership, member_id)
    leaving = target.pk == membership.pk
    if not leaving and not membership.is_owner:
        raise PermissionDenied("Only owners can remove other members.")
    try:
        services.remove_member(membership=target)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("workspaces:members", slug=slug)
    if leaving:
        messages.success(request, f"You left {membership.workspace.name}.")
        request.session.pop("workspace", None)
        return redirect("home")
    messages.success(request, f"{target.user.username} was removed.")
    return redirect("workspaces:members", slug=slug)


@require_POST
def invite_create(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug, owner=True)
    form = InviteForm(request.POST)
    if form.is_valid():
        invite = services.create_invite(
            workspace=membership.workspace, role=form.cleaned_data["role"], created_by=request.user
        )
        messages.success(
            request, "Invite link created. Copy it from the list below; it works once, for 7 days."
        )
        request.session["new_invite"] = invite.pk
    return redirect("workspaces:members", slug=slug)


@require_POST
def invite_revoke(request: AuthenticatedRequest, slug: str, invite_id: int):
    membership = get_membership(request, slug, owner=True)
    invite = get_object_or_404(Invite, pk=invite_id, workspace_id=membership.workspace_id)
    services.revoke_invite(invite=invite)
    messages.success(request, "Invite revoked.")
    return redirect("workspaces:members", slug=slug)


@require_http_methods(["GET", "POST"])
def invite_accept(request: AuthenticatedRequest, token: str):
    invite = Invite.objects.select_related("workspace", "created_by").filter(token=token).first()
    if invite is None:
        raise Http404("No such invite.")
    if request.method == "POST":
        try:
            membership = services.accept_invite(token=token, user=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return render(request, "workspaces/invite.html", {"invite": invite}, status=410)
        messages.success(request, f"Welcome to {membership.workspace.name}.")
        return redirect("workspaces:detail", slug=membership.workspace.slug)
    status = 200 if invite.is_usable else 410
    return render(request, "workspaces/invite.html", {"invite": invite}, status=status)


@require_GET
def activity(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug)
    entries = Activity.objects.filter(workspace_id=membership.workspace_id).select_related(
        "actor", "generation", "project"
    )[:100]
    return render(
        request,
        "workspaces/activity.html",
        {"membership": membership, "workspace": membership.workspace, "entries": entries},
    )
