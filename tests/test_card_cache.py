"""Finished gallery cards come from Django's cache as HTML; a changed row never shows its old card."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from studio.generations import cards, live
from studio.generations.models import Generation
from tests.factories import make_generation

S = Generation.Status


@pytest.fixture
def renders(monkeypatch):
    """The cards actually rendered (not served from the cache), by public id."""
    seen = []
    real = cards.render_card

    def counting(g, workspace):
        seen.append(g.public_id)
        return real(g, workspace)

    monkeypatch.setattr(cards, "render_card", counting)
    return seen


@pytest.fixture
def finished(world):
    cache.clear()
    return [
        make_generation(world.workspace, project=world.project, status=S.SUCCEEDED, text=f"shot {i}")
        for i in range(5)
    ]


def page(world, persona="owner"):
    url = reverse("projects:detail", kwargs={"slug": "acme", "project_id": world.project.public_id})
    response = world.persona(persona).client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_finished_cards_are_rendered_once_then_served_from_the_cache(world, finished, renders):
    first = page(world)
    assert sorted(renders) == sorted(g.public_id for g in finished)
    renders.clear()
    second = page(world, "viewer")  # any member sees the same card
    assert renders == []
    for g in finished:
        card = first.split(f'id="generation-{g.public_id}"', 1)[1].split("</article>", 1)[0]
        assert card in second


def test_running_cards_are_never_cached(world, renders):
    cache.clear()
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, progress=0.2)
    url = reverse("generations:card", kwargs={"slug": "acme", "generation_id": g.public_id})
    assert "20%" in world.owner.client.get(url).content.decode()
    Generation.objects.filter(pk=g.pk).update(progress=0.6)
    assert "60%" in world.owner.client.get(url).content.decode()
    assert renders == [g.public_id, g.public_id]
    assert page(world).count(f'id="generation-{g.public_id}"') == 1 and renders.count(g.public_id) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"status": S.FAILED, "error_message": "The vendor refused the prompt."},
        {"error_message": "The vendor refused the prompt.", "status": S.FAILED, "updated_at": None},
        {"width": 640, "height": 360},
    ],
    ids=["saved", "update-without-touching-updated_at", "result-size"],
)
def test_a_changed_generation_never_shows_its_cached_card(world, finished, change):
    g = finished[0]
    before = page(world)
    assert "The vendor refused" not in before and "640×360" not in before
    fields = dict(change)
    if fields.pop("updated_at", True) is None:
        Generation.objects.filter(pk=g.pk).update(**fields)  # a bulk write that leaves updated_at alone
    else:
        for name, value in fields.items():
            setattr(g, name, value)
        g.save()
    after = page(world)
    card = after.split(f'id="generation-{g.public_id}"', 1)[1].split("</article>", 1)[0]
    if "error_message" in change:
        assert "The vendor refused the prompt." in card and 'data-status="failed"' in after
    else:
        assert "640×360" in card


def test_a_deleted_generation_leaves_the_gallery(world, finished):
    g = finished[0]
    assert f'id="generation-{g.public_id}"' in page(world)
    response = world.owner.client.post(
        reverse("generations:delete", kwargs={"slug": "acme", "generation_id": g.public_id})
    )
    assert response.status_code == 302
    assert f'id="generation-{g.public_id}"' not in page(world)


def test_the_age_a_card_shows_moves_on(world, finished):
    g = finished[0]
    page(world)
    Generation.objects.filter(pk=g.pk).update(created_at=timezone.now() - timedelta(days=3))
    card = page(world).split(f'id="generation-{g.public_id}"', 1)[1].split("</article>", 1)[0]
    assert "3\xa0days ago" in card


def test_another_workspace_never_gets_a_card_of_ours(world, finished):
    g = finished[0]
    page(world)
    assert cards.cache_key(g, world.workspace) != cards.cache_key(g, world.other_workspace)
    # Their gallery, and their card endpoint for our id, never hand back our card.
    theirs = world.outsider.client.get(reverse("gallery", kwargs={"slug": "rival"})).content.decode()
    assert g.public_id not in theirs
    url = reverse("generations:card", kwargs={"slug": "rival", "generation_id": g.public_id})
    assert world.outsider.client.get(url).status_code == 404


def test_the_live_hub_sends_the_card_the_gallery_shows(world, finished, renders):
    g = finished[1]
    body = page(world)
    renders.clear()
    (event,) = live.render_events([g.pk])
    assert renders == []  # from the cache the page filled
    card = body.split(f'<article id="generation-{g.public_id}"', 1)[1].split("</article>", 1)[0]
    assert card in event.data
    Generation.objects.filter(pk=g.pk).update(status=S.FAILED, error_message="gone wrong")
    (event,) = live.render_events([g.pk])
    assert renders == [g.public_id] and "gone wrong" in event.data


def test_news_and_card_endpoint_use_the_same_cached_card(world, finished, renders):
    g = finished[2]
    page(world)
    renders.clear()
    url = reverse("generations:card", kwargs={"slug": "acme", "generation_id": g.public_id})
    response = world.viewer.client.get(url)
    assert response["Cache-Control"] == "no-store"
    assert f'id="generation-{g.public_id}"' in response.content.decode()
    news = world.viewer.client.get(
        reverse("generations:news", kwargs={"slug": "acme"}),
        {"after": f"{(g.created_at - timedelta(hours=1)).isoformat()}~1", "project": world.project.public_id},
    ).content.decode()
    assert f'id="generation-{g.public_id}"' in news
    assert renders == []


def test_card_endpoint_costs_the_same_queries_cached_or_not(world, finished, django_assert_max_num_queries):
    url = reverse("generations:card", kwargs={"slug": "acme", "generation_id": finished[0].public_id})
    world.owner.client.get(url)  # warm the session
    cache.clear()
    with django_assert_max_num_queries(3) as cold:
        world.owner.client.get(url)
    with django_assert_max_num_queries(3) as warm:
        world.owner.client.get(url)
    assert len(cold.captured_queries) == len(warm.captured_queries)


# ------------------------------------------------------------------ the job form's memo of widget HTML


def test_memoed_widgets_print_what_django_renders(world):
    from studio.generations.canvas import _widget_html, prerendered
    from studio.generations.forms import GenerationForm

    _widget_html.clear()
    for _ in range(2):  # the first fills the memo, the second prints from it
        memo = prerendered(GenerationForm(initial={"prompt": "a fox"}))
        plain = GenerationForm(initial={"prompt": "a fox"})
        for name in plain.fields:
            assert str(memo[name]) == str(plain[name]), name
    assert _widget_html
    assert "a fox</textarea>" in str(prerendered(GenerationForm(initial={"prompt": "a fox"}))["prompt"])
    assert "a fox" not in str(prerendered(GenerationForm())["prompt"])


def test_a_remix_between_fresh_pages_gets_its_own_values(world):
    g = make_generation(
        world.workspace,
        project=world.project,
        status=S.SUCCEEDED,
        provider="dashscope",
        model="wan2.1-vace-plus",
    )
    url = reverse("projects:detail", kwargs={"slug": "acme", "project_id": world.project.public_id})
    fresh = world.editor.client.get(url).content.decode()
    remix = world.editor.client.get(url, {"remix": g.public_id}).content.decode()
    again = world.editor.client.get(url).content.decode()
    chosen = '<option value="dashscope:wan2.1-vace-plus" selected>'
    assert chosen in remix and chosen not in fresh and chosen not in again
    refused = world.editor.client.post(
        reverse("generations:create", kwargs={"slug": "acme", "project_id": world.project.public_id}),
        {"model": "dashscope:wan2.1-vace-plus", "prompt": ""},
    ).content.decode()
    assert chosen in refused  # a refused try keeps what was chosen (a bound form never uses the memo)
