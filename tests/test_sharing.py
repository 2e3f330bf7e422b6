"""Share links: the token is the only key; anything but an active, exact token shows nothing."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.generations.models import Generation
from studio.sharing import services
from studio.sharing.models import ShareLink
from tests.factories import make_generation

S = Generation.Status


def finished(world, **fields):
    g = make_generation(
        world.workspace, project=world.project, status=S.SUCCEEDED, width=320, height=192, **fields
    )
    g.video.save("v.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 2000), save=False)
    g.poster.save("p.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100), save=False)
    g.save(update_fields=["video", "poster"])
    return g


@pytest.fixture
def shared(world):
    g = finished(world, text="secret recipe words")
    link = services.create_share_link(workspace=world.workspace, user=world.owner.user, generation=g)
    return g, link


def test_logged_out_visitor_sees_the_video_but_not_the_prompt(shared):
    g, link = shared
    response = Client().get(reverse("shared", kwargs={"token": link.token}))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"/s/{link.token}/{g.public_id}.mp4" in page and "secret recipe words" not in page
    assert response["X-Robots-Tag"] == "noindex, nofollow" and 'name="robots" content="noindex' in page
    assert response["Referrer-Policy"] == "no-referrer"
    video = Client().get(
        reverse("shared_media", kwargs={"token": link.token, "generation_id": g.public_id, "kind": "mp4"})
    )
    assert video.status_code == 200 and b"".join(video.streaming_content).startswith(b"\x00\x00\x00\x18ftyp")
    link.refresh_from_db()
    assert link.view_count == 1


def test_the_recipe_shows_only_when_the_sharer_chose_it(world):
    g = finished(world, text="open recipe words")
    link = services.create_share_link(
        workspace=world.workspace, user=world.owner.user, generation=g, include_recipe=True
    )
    assert (
        "open recipe words" in Client().get(reverse("shared", kwargs={"token": link.token})).content.decode()
    )


@pytest.mark.parametrize("include_recipe", [False, True])
def test_the_download_name_tells_nothing_the_link_hides(world, include_recipe):
    world.project.name = "Secret launch"
    world.project.save()
    g = finished(world, text="hidden words of the prompt")
    link = services.create_share_link(
        workspace=world.workspace, user=world.owner.user, generation=g, include_recipe=include_recipe
    )
    url = reverse("shared_media", kwargs={"token": link.token, "generation_id": g.public_id, "kind": "mp4"})
    disposition = Client().get(url + "?download=1")["Content-Disposition"]
    if include_recipe:
        assert "Secret-launch-hidden-words" in disposition
    else:
        assert f'filename="studio-{g.public_id}.mp4"' in disposition
        assert "hidden" not in disposition and "Secret" not in disposition


def spoil(link, how):
    if how == "revoked":
        services.revoke_share_link(link=link)
        return link.token
    if how == "expired":
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        return link.token
    if how == "truncated":
        return link.token[:-1]
    if how == "another":
        return link.token[:-4] + ("AAAA" if not link.token.endswith("AAAA") else "BBBB")
    if how == "extended":
        return link.token + "x"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["revoked", "expired", "truncated", "another", "extended"])
def test_a_guessed_or_dead_token_shows_nothing(shared, how):
    g, link = shared
    token = spoil(link, how)
    client = Client()
    assert client.get(reverse("shared", kwargs={"token": token})).status_code == 404
    for kind in ("mp4", "jpg"):
        response = client.get(
            reverse("shared_media", kwargs={"token": token, "generation_id": g.public_id, "kind": kind})
        )
        assert response.status_code == 404


def test_a_link_to_one_video_does_not_open_its_neighbours(world, shared):
    _, link = shared
    neighbour = finished(world)
    url = reverse(
        "shared_media", kwargs={"token": link.token, "generation_id": neighbour.public_id, "kind": "mp4"}
    )
    assert Client().get(url).status_code == 404


def test_a_project_link_shows_only_finished_videos_of_that_project(world):
    done = finished(world)
    running = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    elsewhere = finished(world)
    elsewhere.project = world.other_project.__class__.objects.create(workspace=world.workspace, name="Other")
    elsewhere.save(update_fields=["project"])
    link = services.create_share_link(workspace=world.workspace, user=world.owner.user, project=world.project)
    page = Client().get(reverse("shared", kwargs={"token": link.token})).content.decode()
    assert done.public_id in page and running.public_id not in page and elsewhere.public_id not in page


def test_an_unfinished_video_cannot_be_shared(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.create_share_link(
            workspace=world.workspace,
            user=None,
            generation=make_generation(world.workspace, status=S.RUNNING),
        )


def test_revoking_through_the_page_stops_the_link_at_once(world, shared):
    g, link = shared
    response = world.editor.client.post(
        reverse("share_revoke", kwargs={"slug": "acme", "link_id": link.pk}),
        {"next": f"/w/acme/g/{g.public_id}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/w/acme/g/{g.public_id}/"
    assert Client().get(reverse("shared", kwargs={"token": link.token})).status_code == 404


def test_viewers_cannot_share_or_revoke(world, shared):
    g, link = shared
    assert (
        world.viewer.client.post(
            reverse("generations:share", kwargs={"slug": "acme", "generation_id": g.public_id})
        ).status_code
        == 403
    )
    assert (
        world.viewer.client.post(
            reverse("share_revoke", kwargs={"slug": "acme", "link_id": link.pk})
        ).status_code
        == 403
    )
    assert (
        world.outsider.client.post(
            reverse("share_revoke", kwargs={"slug": "rival", "link_id": link.pk})
        ).status_code
        == 404
    )


def test_the_public_page_ignores_who_is_logged_in(world, shared):
    """An outsider who is logged in sees exactly what an anonymous visitor sees, nothing of their own."""
    _g, link = shared
    anon = Client().get(reverse("shared", kwargs={"token": link.token})).content
    logged_in = world.outsider.client.get(reverse("shared", kwargs={"token": link.token})).content
    strip = lambda b: b.decode().split("<main", 1)[1]  # noqa: E731
    assert strip(anon) == strip(logged_in)
