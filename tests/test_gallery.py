"""The gallery: filters, search, keyset pages, the "anything new?" check and a constant query count."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.generations.models import Generation
from studio.generations.selectors import GalleryFilters, cursor_of, gallery_page, newer_than
from tests.factories import make_generation

S = Generation.Status


@pytest.fixture
def many(world):
    rows = []
    base = timezone.now() - timedelta(hours=1)
    for i in range(60):
        g = make_generation(
            world.workspace,
            project=world.project,
            status=S.SUCCEEDED if i % 3 else S.FAILED,
            provider="local" if i % 2 else "jiekou",
            model="preview-t2v" if i % 2 else "wan2.1-t2v",
            text=f"shot {i} of a {'lighthouse' if i % 5 == 0 else 'forest'}",
            user=world.editor.user if i % 4 == 0 else world.owner.user,
        )
        Generation.objects.filter(pk=g.pk).update(
            created_at=base + timedelta(seconds=i // 2)
        )  # pairs share a timestamp
        rows.append(g)
    return rows


def test_keyset_pages_cover_everything_once_newest_first(world, many):
    seen, cursor = [], ""
    while True:
        page, cursor = gallery_page(workspace=world.workspace, before=cursor, limit=7)
        seen += [g.pk for g in page]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 60
    ordered = list(
        Generation.objects.filter(workspace=world.workspace)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == ordered


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (GalleryFilters(status="failed"), 20),
        (GalleryFilters(provider="jiekou"), 30),
        (GalleryFilters(model="preview-t2v", status="succeeded"), 20),
        (GalleryFilters(q="lighthouse"), 12),
        (GalleryFilters(q="shot lighthouse"), 12),
        (GalleryFilters(author="editor-user"), 15),
        (GalleryFilters(status="active"), 0),
    ],
)
def test_filters(world, many, filters, expected):
    rows, _ = gallery_page(workspace=world.workspace, filters=filters, limit=100)
    assert len(rows) == expected


def test_another_workspace_never_appears(world, many):
    make_generation(world.other_workspace, text="rival lighthouse")
    rows, _ = gallery_page(workspace=world.workspace, filters=GalleryFilters(q="rival"), limit=100)
    assert rows == []


def test_news_finds_only_what_is_newer(world, many):
    newest = Generation.objects.filter(workspace=world.workspace).order_by("-created_at", "-id").first()
    assert newer_than(workspace=world.workspace, after=cursor_of(newest)) == []
    fresh = make_generation(world.workspace, project=world.project, text="made in another tab")
    assert [g.pk for g in newer_than(workspace=world.workspace, after=cursor_of(newest))] == [fresh.pk]


def test_gallery_page_costs_the_same_queries_at_any_size(world, many, django_assert_max_num_queries):
    url = reverse("projects:detail", kwargs={"slug": "acme", "project_id": world.project.public_id})
    world.owner.client.get(url)  # warm the session
    with django_assert_max_num_queries(12) as small:
        world.owner.client.get(url + "?status=failed")
    with django_assert_max_num_queries(12) as big:
        world.owner.client.get(url)
    assert len(small.captured_queries) == len(big.captured_queries)


def test_filter_request_from_htmx_gets_only_the_results(world, many):
    url = reverse("gallery", kwargs={"slug": "acme"})
    response = world.viewer.client.get(
        url + "?q=lighthouse", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="gallery-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="gallery-results">') and "<html" not in body
    assert body.count('class="gcard ') == 12
    assert "HX-Request" in response["Vary"]


def test_show_older_brings_the_next_page(world, many):
    url = reverse("gallery", kwargs={"slug": "acme"})
    first = world.viewer.client.get(url).content.decode()
    assert first.count('class="gcard ') == 24 and 'id="gallery-more"' in first
    cursor = first.split("before=", 1)[1].split('"', 1)[0]
    from html import unescape
    from urllib.parse import unquote

    more = world.viewer.client.get(
        url + "?before=" + unquote(unescape(cursor)), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert more.count('class="gcard ') == 24 and "<html" not in more


def test_news_endpoint_adds_new_cards_on_top(world, many):
    newest = Generation.objects.filter(workspace=world.workspace).order_by("-created_at", "-id").first()
    url = reverse("generations:news", kwargs={"slug": "acme"})
    quiet = world.viewer.client.get(
        url, {"after": cursor_of(newest), "project": world.project.public_id}
    ).content.decode()
    assert "gcard" not in quiet and 'id="gallery-news"' in quiet
    fresh = make_generation(world.workspace, project=world.project, text="from the command line")
    loud = world.viewer.client.get(
        url, {"after": cursor_of(newest), "project": world.project.public_id}
    ).content.decode()
    assert f'id="generation-{fresh.public_id}"' in loud and 'hx-swap-oob="afterbegin:#gallery-grid"' in loud
    assert cursor_of(fresh).split("~")[1] in loud  # the poller moved its cursor on


def test_news_for_another_workspaces_project_is_404(world):
    url = reverse("generations:news", kwargs={"slug": "acme"})
    assert (
        world.owner.client.get(url, {"after": "x", "project": world.other_project.public_id}).status_code
        == 404
    )
