"""Input an outside audit sent that answered 500 (and lost what was typed): each now gets a clear answer."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from studio.generations.models import Generation
from studio.inputs import small_json, whole_number
from studio.sharing.services import create_share_link
from tests.factories import make_generation

HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()


def test_whole_numbers_are_plain_digits_in_range():
    assert whole_number("42") == 42 and whole_number(" 7 ") == 7
    for bad in ("", "²", "\uff14\uff12", "-1", "1e3", "0x10", HUGE, "12.0"):
        assert whole_number(bad) is None, bad
    assert whole_number("6", low=1, high=5) is None and whole_number(str(2**63)) is None


def test_small_json_refuses_what_is_too_long_or_too_deep():
    assert small_json('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    for text, words in (
        ("[" * 50_000, "characters"),
        ("[" * 5_000, "nested"),
        ("[" * 20 + "]" * 20, "nested"),
    ):
        with pytest.raises(ValueError, match=words):
            small_json(text)


@pytest.fixture
def finished(world):
    g = make_generation(world.workspace, project=world.project, status=Generation.Status.SUCCEEDED)
    g.video.save("v.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 2000), save=False)
    g.poster.save("p.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100), save=False)
    g.save(update_fields=["video", "poster"])
    return g


def test_a_range_of_thousands_of_digits_is_416_on_every_media_door(world, finished):
    link = create_share_link(workspace=world.workspace, user=world.owner.user, generation=finished)
    kw = {"slug": "acme", "generation_id": finished.public_id}
    urls = [
        (world.owner.client, reverse("generations:video", kwargs=kw)),
        (world.owner.client, reverse("generations:poster", kwargs=kw)),
        (Client(), reverse("shared_media", args=[link.token, finished.public_id, "mp4"])),
    ]
    for client, url in urls:
        for header in (f"bytes={HUGE}-", f"bytes=0-{HUGE}", f"bytes=-{HUGE}"):
            assert client.get(url, headers={"Range": header}).status_code == 416, (url, header[:20])


def create(world, **data):
    url = reverse("generations:create", kwargs={"slug": "acme", "project_id": world.project.public_id})
    form = {"model": "local:preview-t2v", "prompt": "a kite over the dunes", "duration": "2", **data}
    return world.editor.client.post(url, form)


def test_deeply_nested_settings_are_a_form_error_that_keeps_the_prompt(world):
    response = create(world, params="[" * 50_000)
    page = response.content.decode()
    assert response.status_code == 200 and "Extra settings can" in page and "a kite over the dunes" in page
    assert not Generation.objects.exists()


def test_damaged_builder_parts_fall_back_to_the_textareas(world):
    response = create(world, prompt="", parts_json="[" * 50_000, part_action="a heron lifts off")
    assert response.status_code == 302
    assert Generation.objects.get().prompt.text == "A heron lifts off."


@pytest.mark.parametrize("stars", ["²", HUGE, "\uff13"])
def test_odd_stars_are_ignored_not_a_crash(world, finished, stars):
    url = reverse("generations:rate", kwargs={"slug": "acme", "generation_id": finished.public_id})
    assert world.viewer.client.post(url, {"stars": stars}).status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        {"before": "2026-13-45T00:00:00~1"},
        {"before": f"2026-01-01T00:00:00~{HUGE}"},
        {"before": "~" * 5000},
        {"since": "2026-13-45"},
    ],
)
def test_impossible_cursors_and_dates_show_the_gallery_from_the_start(world, query):
    assert world.owner.client.get(reverse("gallery", kwargs={"slug": "acme"}), query).status_code == 200
    project = reverse("projects:detail", kwargs={"slug": "acme", "project_id": world.project.public_id})
    assert world.owner.client.get(project, query).status_code == 200


def test_an_impossible_news_cursor_brings_no_news(world):
    url = reverse("generations:news", kwargs={"slug": "acme"})
    response = world.owner.client.get(url, {"after": "2026-13-45T00:00:00~1"})
    assert response.status_code == 200


@pytest.mark.parametrize("template", ["²", HUGE, "-3"])
def test_an_odd_template_id_opens_the_builder_empty(world, template):
    url = reverse("prompts:builder", kwargs={"slug": "acme"})
    assert world.owner.client.get(url, {"template": template}).status_code == 200


@pytest.mark.parametrize("model", ["siliconflow:Wan-AI/Wan2.2-T2V-A14B", "local:preview-t2v"])
def test_a_seed_past_64_bits_is_a_form_error_even_where_the_model_gives_no_range(world, model):
    response = create(world, model=model, seed=str(2**64), duration="")
    page = response.content.decode()
    assert response.status_code == 200 and "The seed for" in page and "a kite over the dunes" in page
    assert not Generation.objects.exists()
