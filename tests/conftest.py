"""Personas (healthchecks style): an owner, an editor, a viewer of one workspace, and an outsider who
owns a workspace of their own. Each comes with a logged-in client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from django.test import Client

if TYPE_CHECKING:  # imported lazily below, so pure-Python suites can run without Django set up
    from studio.projects.models import Project
    from studio.workspaces.models import Membership, Workspace

PASSWORD = "correct horse battery staple"
CLOSED = {
    "siliconflow": "http://127.0.0.1:9/v1",
    "dashscope": "http://127.0.0.1:9/api/v1",
    "jiekou": "http://127.0.0.1:9",
}


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Tests never nudge a real broker: a developer's running worker would pick their jobs up. Worker
    processes started by tests find jobs through the sweeper, as they would after a lost message."""
    monkeypatch.setattr("studio.generations.services._nudge", lambda generation_id: None)


@pytest.fixture(scope="session", autouse=True)
def _sweep_threads_let_go(django_db_setup, django_db_blocker):
    """The sweeper's threads keep their connections between steps; close them before the test
    database is dropped (PostgreSQL refuses to drop a database in use)."""
    yield
    from studio.generations import engine

    with django_db_blocker.unblock():
        engine.close_pool_connections()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counts live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _plain_static_files():
    """No manifest in tests: a page served by the live server between two tests still finds its files."""
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _test_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    # No test may reach a real vendor: cloud providers point at a closed loopback port unless a test
    # points them at an emulator, and no instance-wide keys leak in from the environment.
    settings.STUDIO_PROVIDERS = {
        name: {**conf, "OPTIONS": {**conf["OPTIONS"], "base_url": CLOSED[name], "api_key": ""}}
        if name in CLOSED
        else conf
        for name, conf in settings.STUDIO_PROVIDERS.items()
    }
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
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=PASSWORD)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db) -> World:
    from studio.projects.models import Project
    from studio.workspaces.models import Membership, Workspace

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


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory):
    """A real 1 s, 320x192, 16 fps H.264 file made by the offline renderer."""
    from studio.providers.local.render import RenderSpec, render

    path = tmp_path_factory.mktemp("media") / "sample.mp4"
    render(RenderSpec(task="t2v", width=320, height=192, duration=1.0, fps=16, prompt="sample"), str(path))
    return path


from tests.processes import proc_env, processes  # noqa: E402, F401 - fixtures shared by slow and browser tests
