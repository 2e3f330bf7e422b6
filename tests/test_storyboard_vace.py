"""VACE continuity through the DashScope emulator over loopback HTTP: what the vendor is sent for a shot
that extends the previous take or takes the shots so far as a reference sheet, and the take it makes."""

# ruff: noqa: F811 - the emulator's fixtures are imported, then named as test arguments
from __future__ import annotations

import pytest

from studio.storyboards import continuity, services
from tests.providers.dashscope.test_adapter import (  # noqa: F401 - fixtures
    ds,
    ds_emulator,
    public,
    run,
    submitted_body,
)
from tests.storyboard_helpers import storyboard_with_takes

pytestmark = pytest.mark.django_db(transaction=True)


def vace_shot(world, sb, continuity: str):
    from studio.generations.recipe import Recipe

    recipe = Recipe(provider="dashscope", model="wan2.1-vace-plus", parts={"action": "the kite lands"})
    return services.add_shot(workspace=world.workspace, storyboard=sb, recipe=recipe, continuity=continuity)


@pytest.mark.parametrize(
    ("kind", "function", "field"),
    [
        ("extension", "video_extension", "first_clip_url"),
        ("reference_sheet", "image_reference", "ref_images_url"),
    ],
)
def test_a_vace_shot_sends_its_continuity_to_the_vendor_once_and_makes_a_take(
    world,
    tmp_path,
    ds,
    public,
    kind,
    function,
    field,
):
    sb, _ = storyboard_with_takes(world, tmp_path, [{"duration": 2.0, "width": 640, "height": 360}])
    shot = vace_shot(world, sb, kind)
    generation = run(continuity.generate_shot(workspace=world.workspace, shot=shot, user=world.owner.user))
    assert generation.status == "succeeded", generation.error_message
    body = submitted_body(ds)
    assert body["model"] == "wan2.1-vace-plus" and body["input"]["function"] == function
    urls = body["input"][field]
    urls = urls if isinstance(urls, list) else [urls]
    assert len(urls) == 1 and urls[0].startswith(f"{public}/public/assets/")
    link = generation.input_links.get()
    assert link.asset.workspace == world.workspace
    assert sum(1 for r in ds.requests if r[0] == "POST" and "video-synthesis" in r[1]) == 1
