from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from studio.http import AuthenticatedRequest
from studio.projects import services
from studio.projects.forms import ProjectForm
from studio.workspaces.access import get_membership, get_project_for_user


@require_POST
def project_create(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug, write=True)
    form = ProjectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the project a name (up to 100 characters).")
        return redirect("workspaces:detail", slug=slug)
    project = services.create_project(
        workspace=membership.workspace, name=form.cleaned_data["name"], user=request.user
    )
    return redirect("projects:detail", slug=slug, project_id=project.public_id)


@require_POST
def project_rename(request: AuthenticatedRequest, slug: str, project_id: str):
    _, project = get_project_for_user(request, slug, project_id, write=True)
    form = ProjectForm(request.POST)
    if form.is_valid():
        services.rename_project(project=project, name=form.cleaned_data["name"])
        messages.success(request, "Renamed.")
    else:
        messages.error(request, "Give the project a name (up to 100 characters).")
    return redirect("projects:detail", slug=slug, project_id=project_id)


@require_POST
def project_archive(request: AuthenticatedRequest, slug: str, project_id: str):
    _, project = get_project_for_user(request, slug, project_id, write=True)
    archived = request.POST.get("archived", "1") == "1"
    services.set_archived(project=project, archived=archived)
    messages.success(request, f"“{project.name}” {'archived' if archived else 'restored'}.")
    return redirect("workspaces:detail", slug=slug)
