from django.utils import timezone

from studio.projects.models import Project


def create_project(*, workspace, name: str, user) -> Project:
    return Project.objects.create(workspace=workspace, name=name.strip(), created_by=user)


def rename_project(*, project: Project, name: str) -> Project:
    project.name = name.strip()
    project.save(update_fields=["name"])
    return project


def set_archived(*, project: Project, archived: bool) -> Project:
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])
    return project
