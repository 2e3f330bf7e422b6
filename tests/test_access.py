"""Every URL pattern of the studio, tried by every persona.

Add each new URL to ROUTES: ``test_every_url_pattern_is_in_the_table`` fails until you do.
Expectation kinds:
- public: anyone gets a page.
- login: any logged-in user is served; anonymous is sent to log in.
- read: members of the workspace are served; outsiders get 404; anonymous is sent to log in.
- write: owners and editors are served; viewers get 403; outsiders 404; anonymous to log in.
- owner: owners are served; editors and viewers 403; outsiders 404; anonymous to log in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import World
from tests.storyboard_helpers import a_shot, a_storyboard, an_export
from tests.test_images import image_crop_data, image_upload_data


@dataclass(frozen=True)
class Route:
    method: str
    kwargs: Callable[[World], dict]
    kind: str
    data: Callable[[World], dict] = lambda w: {}


def ws(w):
    return {"slug": w.workspace.slug}


def proj(w):
    return {"slug": w.workspace.slug, "project_id": w.project.public_id}


def member(w):
    """A fifth member, so that no persona acts on its own membership (which would be leaving)."""
    from studio.workspaces.models import Membership
    from tests.conftest import make_user

    m = Membership.objects.create(workspace=w.workspace, user=make_user("extra-user"), role="viewer")
    return {"slug": w.workspace.slug, "member_id": m.pk}


def invite(w):
    from studio.workspaces.models import Invite

    i = Invite.objects.create(workspace=w.workspace, role="viewer", created_by=w.owner.user)
    return {"slug": w.workspace.slug, "invite_id": i.pk}


def invite_token(w):
    from studio.workspaces.models import Invite

    return {"token": Invite.objects.create(workspace=w.workspace, role="viewer").token}


def finished_generation(w):
    from django.core.files.base import ContentFile

    from studio.generations.models import Generation
    from tests.factories import make_generation

    g = make_generation(w.workspace, status=Generation.Status.SUCCEEDED)
    g.video.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 100), save=False)
    g.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100), save=False)
    g.save(update_fields=["video", "poster"])
    return {"slug": w.workspace.slug, "generation_id": g.public_id}


def an_asset(w):
    from django.core.files.base import ContentFile

    from studio.assets.models import Asset

    a = Asset(
        workspace=w.workspace, kind="image", format="png", content_type="image/png", sha256="0" * 64, bytes=4
    )
    a.file.save("a.png", ContentFile(b"\x89PNG"), save=False)
    a.save()
    return a


def asset(w):
    return {"slug": w.workspace.slug, "asset_id": an_asset(w).public_id}


def public_asset(w):
    from django.core import signing

    from studio.assets.signing import SALT

    a = an_asset(w)
    return {"token": signing.dumps(a.public_id, salt=SALT), "name": f"{a.public_id}.png"}


def _link(w):
    from studio.generations.models import Generation
    from studio.sharing.services import create_share_link

    kwargs = finished_generation(w)
    g = Generation.objects.get(public_id=kwargs["generation_id"])
    return g, create_share_link(workspace=w.workspace, user=w.owner.user, generation=g)


def share_link(w):
    return {"slug": w.workspace.slug, "link_id": _link(w)[1].pk}


def shared_token(w):
    return {"token": _link(w)[1].token}


def shared_media(w):
    g, link = _link(w)
    return {"token": link.token, "generation_id": g.public_id, "kind": "jpg"}


def a_video(w):
    import tempfile
    from pathlib import Path

    from studio.assets.services import create_asset
    from tests.media import make_video

    with tempfile.TemporaryDirectory() as d:
        return create_asset(
            workspace=w.workspace,
            user=w.owner.user,
            source=make_video(Path(d) / "v.mp4", 64, 48, frames=4),
            expect="video",
        )


def video(w):
    return {"slug": w.workspace.slug, "asset_id": a_video(w).public_id}


def a_clip(w):
    import tempfile
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.media import make_video

    with tempfile.TemporaryDirectory() as d:
        data = make_video(Path(d) / "clip.mp4", 64, 48, frames=4).read_bytes()
    return {"slot": "video", "file": SimpleUploadedFile("clip.mp4", data, content_type="video/mp4")}


def video_frame(w):
    return {**video(w), "frame": 1}


def a_mask(w):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (64, 48), 255).save(buf, "PNG")
    return {"mask": SimpleUploadedFile("mask.png", buf.getvalue(), content_type="image/png"), "frame": "1"}


def prompt_template(w):
    from studio.prompts.models import PromptTemplate

    t = PromptTemplate.objects.create(workspace=w.workspace, name="Mine", parts={"action": "a kite flies"})
    return {"slug": w.workspace.slug, "template_id": t.pk}


ROUTES: dict[str, Route] = {
    "home": Route("GET", lambda w: {}, "login"),
    "signup": Route("GET", lambda w: {}, "public"),
    "login": Route("GET", lambda w: {}, "public"),
    "logout": Route("POST", lambda w: {}, "public"),
    "password_change": Route("GET", lambda w: {}, "login"),
    "password_change_done": Route("GET", lambda w: {}, "login"),
    "invite_accept": Route("GET", invite_token, "login"),
    "workspaces:create": Route("GET", lambda w: {}, "login"),
    "workspaces:detail": Route("GET", ws, "read"),
    "workspaces:members": Route("GET", ws, "read"),
    "workspaces:member_role": Route("POST", member, "owner", lambda w: {"role": "editor"}),
    "workspaces:member_remove": Route("POST", member, "owner"),
    "workspaces:invite_create": Route("POST", ws, "owner", lambda w: {"role": "viewer"}),
    "workspaces:invite_revoke": Route("POST", invite, "owner"),
    "projects:create": Route("POST", ws, "write", lambda w: {"name": "New"}),
    "projects:detail": Route("GET", proj, "read"),
    "storyboards:export_file": Route("GET", an_export, "read"),
    "storyboards:export_share": Route("POST", an_export, "write"),
    "storyboards:index": Route("GET", proj, "read"),
    "storyboards:create": Route("POST", proj, "write", lambda w: {"name": "Film"}),
    "storyboards:detail": Route("GET", a_storyboard, "read"),
    "storyboards:shot_add": Route("POST", a_storyboard, "write", lambda w: {"model": "local:preview-t2v"}),
    "storyboards:shot_move": Route("POST", a_shot, "write", lambda w: {"direction": "up"}),
    "storyboards:shot_take": Route("POST", a_shot, "write"),
    "storyboards:shot_trim": Route("POST", a_shot, "write", lambda w: {"in_point": "0"}),
    "storyboards:shot_generate": Route("POST", a_shot, "write"),
    "storyboards:export_create": Route("POST", a_storyboard, "write"),
    "storyboards:export_settings": Route(
        "POST", a_storyboard, "write", lambda w: {"size": "640x360", "fps": "16", "crossfade": "0"}
    ),
    "storyboards:chain_start": Route("POST", a_shot, "write"),
    "storyboards:chain_stop": Route("POST", a_storyboard, "write"),
    "projects:rename": Route("POST", proj, "write", lambda w: {"name": "Renamed"}),
    "projects:archive": Route("POST", proj, "write"),
    "generations:create": Route(
        "POST",
        proj,
        "write",
        lambda w: {"model": "local:preview-t2v", "prompt": "a kite", "size": "832x480", "duration": "1"},
    ),
    "generations:preview": Route(
        "POST", proj, "write", lambda w: {"model": "local:preview-t2v", "prompt": "a kite", "duration": "1"}
    ),
    "generations:detail": Route("GET", finished_generation, "read"),
    "generations:card": Route("GET", finished_generation, "read"),
    "generations:cancel": Route("POST", finished_generation, "write"),
    "generations:retry": Route("POST", finished_generation, "write"),
    "generations:video": Route("GET", finished_generation, "read"),
    "generations:share": Route("POST", finished_generation, "write"),
    "generations:news": Route("GET", ws, "read"),
    "generations:live": Route("GET", ws, "read"),  # 204 under WSGI; the stream itself: test_live_stream.py
    "generations:delete": Route("POST", finished_generation, "write"),
    "generations:rate": Route("POST", finished_generation, "read", lambda w: {"favorite": "1"}),
    "compare": Route("GET", ws, "read"),
    "ops": Route("GET", ws, "owner"),
    "ops_limits": Route("POST", ws, "owner", lambda w: {"monthly_budget": "25", "max_jobs_in_flight": "10"}),
    "generations:nudge": Route("POST", finished_generation, "owner"),
    "images:image_page": Route("GET", ws, "read"),
    "images:upload": Route("POST", ws, "write", image_upload_data),
    "images:crop": Route("POST", ws, "write", image_crop_data),
    "prompts:builder": Route("GET", ws, "read"),
    "prompts:templates": Route("GET", ws, "read"),
    "prompts:template_save": Route(
        "POST", ws, "write", lambda w: {"template_name": "New", "parts_json": '{"action": "a kite flies"}'}
    ),
    "prompts:template_parts": Route("GET", prompt_template, "read"),
    "prompts:template_delete": Route("POST", prompt_template, "write"),
    "masks:mask_page": Route("GET", video, "read"),
    "masks:mask_frame": Route("GET", video_frame, "read"),
    "masks:mask_save": Route("POST", video, "write", a_mask),
    "masks:painter": Route("GET", video, "read"),
    "workspaces:activity": Route("GET", ws, "read"),
    "gallery": Route("GET", ws, "read"),
    "share_project": Route("POST", proj, "write"),
    "share_revoke": Route("POST", share_link, "write"),
    "shared": Route("GET", shared_token, "public"),
    "shared_media": Route("GET", shared_media, "public"),
    "providers:keys": Route("GET", ws, "owner"),
    "providers:key_set": Route(
        "POST", lambda w: {**ws(w), "provider": "jiekou"}, "owner", lambda w: {"key": "sk-test-12345678"}
    ),
    "providers:key_check": Route("POST", lambda w: {**ws(w), "provider": "jiekou"}, "owner"),
    "providers:key_remove": Route("POST", lambda w: {**ws(w), "provider": "jiekou"}, "owner"),
    "generations:poster": Route("GET", finished_generation, "read"),
    "asset_file": Route("GET", asset, "read"),
    "asset_upload": Route("POST", ws, "write", a_clip),
    "public_asset": Route("GET", public_asset, "public"),
}

# Django's admin has its own staff-only checks; it is not a studio page.
IGNORED_NAMESPACES = {"admin"}

EXPECT = {
    "public": {"owner": "ok", "editor": "ok", "viewer": "ok", "outsider": "ok", "anonymous": "ok"},
    "login": {"owner": "ok", "editor": "ok", "viewer": "ok", "outsider": "ok", "anonymous": "login"},
    "read": {"owner": "ok", "editor": "ok", "viewer": "ok", "outsider": 404, "anonymous": "login"},
    "write": {"owner": "ok", "editor": "ok", "viewer": 403, "outsider": 404, "anonymous": "login"},
    "owner": {"owner": "ok", "editor": 403, "viewer": 403, "outsider": 404, "anonymous": "login"},
}
PERSONAS = ["owner", "editor", "viewer", "outsider", "anonymous"]


def all_url_names(resolver=None, prefix="") -> set[str]:
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in IGNORED_NAMESPACES:
                continue
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= all_url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


def test_every_url_pattern_is_in_the_table():
    missing = all_url_names() - set(ROUTES)
    assert not missing, f"add these URL names to tests/test_access.py ROUTES: {sorted(missing)}"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_access(world, name, persona):
    from django.urls import reverse

    route = ROUTES[name]
    url = reverse(name, kwargs=route.kwargs(world))
    client = world.persona(persona).client
    response = client.post(url, route.data(world)) if route.method == "POST" else client.get(url)
    expected = EXPECT[route.kind][persona]
    if expected == "ok":
        assert response.status_code < 400, (name, persona, response.status_code)
    elif expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
            name,
            response.status_code,
        )
    else:
        assert response.status_code == expected, (name, persona, response.status_code)


def test_outsider_cannot_reach_another_workspaces_project_through_its_own_workspace(world):
    """A project id is only looked up inside the caller's workspace: mixing slugs finds nothing."""
    from django.urls import reverse

    url = reverse(
        "projects:detail", kwargs={"slug": world.other_workspace.slug, "project_id": world.project.public_id}
    )
    assert world.outsider.client.get(url).status_code == 404


def test_forbidden_page_is_plain_and_explains(world):
    from django.urls import reverse

    response = world.viewer.client.post(reverse("projects:create", kwargs=ws(world)), {"name": "x"})
    assert response.status_code == 403
    assert b"Viewers can look but not change" in response.content


@pytest.mark.parametrize("name", sorted(n for n, r in ROUTES.items() if r.method == "POST"))
def test_every_post_is_refused_without_a_csrf_token(world, name):
    """The test client skips CSRF checks unless told: here every write is tried as a forged one."""
    from django.test import Client
    from django.urls import reverse

    route = ROUTES[name]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner.user)
    response = client.post(reverse(name, kwargs=route.kwargs(world)), route.data(world))
    assert response.status_code == 403, (name, response.status_code)
    assert b"CSRF" in response.content or b"forged" in response.content.lower(), name
