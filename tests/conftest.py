"""Personas (healthchecks style): an owner, an editor, a viewer of one workspace, and an outsider who
owns a workspace of their own. Each comes with a logged-in client."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from studio.projects.models import Project
from studio.workspaces.models import Membership, Workspace

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _test_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Persona:
    user: object
    client: Client
    membership: Membership | None


@dataclass
class World:
    workspace: Workspace
    project: Project
    other_workspace: Workspace
    other_project: Project
    owner: Persona
    editor: Persona
    viewer: Persona
    outsider: Persona
    anonymous: Persona

    def persona(self, name: str) -> Persona:
        return getattr(self, name)


def make_user(username: str):
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db) -> World:
    workspace = Workspace.objects.create(slug="acme", name="Acme")
    other = Workspace.objects.create(slug="rival", name="Rival")
    personas = {}
    for name, role in (("owner", "owner"), ("editor", "editor"), ("viewer", "viewer")):
        user = make_user(f"{name}-user")
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        personas[name] = Persona(user, logged_in(user), membership)
    outsider = make_user("outsider-user")
    personas["outsider"] = Persona(
        outsider, logged_in(outsider), Membership.objects.create(workspace=other, user=outsider, role="owner")
    )
    personas["anonymous"] = Persona(None, Client(), None)
    project = Project.objects.create(
        workspace=workspace, name="Launch film", created_by=personas["owner"].user
    )
    other_project = Project.objects.create(workspace=other, name="Secret", created_by=outsider)
    return World(workspace, project, other, other_project, **personas)
