"""SiliconFlow's image to video matches the video to the first frame's aspect on its own and recommends
16:9, 9:16 or 1:1 ([000]): the studio keeps its aspect check, and the person may send an image off those
aspects uncropped, by choice ("Send as is"), with a note. Nowhere else does the choice lift a check."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from studio.assets.services import create_asset
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers import catalog
from studio.providers.catalog import MediaInfo

SF_I2V = ("siliconflow", "Wan-AI/Wan2.2-I2V-A14B")


def still(w, h):
    return MediaInfo(kind="image", format="png", width=w, height=h, bytes=100_000)


def job(provider, model, image, **fields):
    return catalog.JobRequest(
        provider=provider, model=model, task=None, prompt="waves", media={"image": image}, **fields
    )


def test_the_aspect_check_stays_without_the_choice():
    with pytest.raises(catalog.CatalogError) as refused:
        catalog.validate(job(*SF_I2V, still(1024, 768)))
    assert "16:9, 9:16 or 1:1" in str(refused.value) and "Crop it first" in str(refused.value)


def test_sent_as_is_the_image_goes_uncropped_with_a_note_and_the_closest_size():
    clean = catalog.validate(job(*SF_I2V, still(1024, 768), as_is=("image",)))
    assert clean.size in ("1280x720", "960x960")
    assert clean.warnings == [
        "The first frame is sent as is, 4:3 (1024x768) and uncropped: SiliconFlow matches the video to the "
        f"image's shape on its own and recommends 16:9, 9:16 or 1:1, so the result may not be {clean.size}."
    ]
    # An image that fits needs no note; a size that contradicts a fitting image is still refused.
    assert catalog.validate(job(*SF_I2V, still(1920, 1080), as_is=("image",))).warnings == []
    with pytest.raises(catalog.CatalogError):
        catalog.validate(job(*SF_I2V, still(1080, 1920), size="1280x720", as_is=("image",)))


def test_the_choice_lifts_no_other_check_and_no_other_models():
    with pytest.raises(catalog.CatalogError) as refused:
        catalog.validate(
            job(
                *SF_I2V,
                MediaInfo(kind="image", format="png", width=1024, height=768, bytes=10, animated=True),
                as_is=("image",),
            )
        )
    assert "animated" in str(refused.value)
    # DashScope takes any aspect anyway; the choice changes nothing there.
    clean = catalog.validate(job("dashscope", "wan2.2-i2v-flash", still(1024, 768), as_is=("image",)))
    assert clean.warnings == [] and clean.size is None


def test_the_job_catalog_offers_it_only_where_the_vendor_matches_the_image():
    from studio.generations.forms import job_catalog

    offered = {key for key, m in job_catalog().items() if m["as_is"]}
    assert offered == {"siliconflow:Wan-AI/Wan2.2-I2V-A14B"}


def four_by_three(world):
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 768), (20, 120, 200)).save(buffer, "PNG")
    return create_asset(
        workspace=world.workspace,
        user=world.owner.user,
        source=SimpleUploadedFile("harbour.png", buffer.getvalue()),
    )


def create_url(world):
    return reverse(
        "generations:create", kwargs={"slug": world.workspace.slug, "project_id": world.project.public_id}
    )


def test_generate_sends_the_uncropped_image_when_chosen_and_remix_keeps_the_choice(world):
    image = four_by_three(world)
    data = {"model": "siliconflow:Wan-AI/Wan2.2-I2V-A14B", "prompt": "waves", "image_asset": image.public_id}
    refused = world.editor.client.post(create_url(world), data).content.decode()
    assert "Crop it first" in refused and not Generation.objects.exists()
    assert 'name="image_as_is" value=""' in refused
    world.editor.client.post(create_url(world), {**data, "image_as_is": "1"})
    g = Generation.objects.get()
    assert g.input_links.get().asset == image and g.size in ("1280x720", "960x960")
    assert g.recipe["as_is"] == ["image"] and "sent as is" in g.warnings[0]
    assert Recipe.of(g).as_is == ("image",)
    page = world.editor.client.get(
        reverse(
            "projects:detail", kwargs={"slug": world.workspace.slug, "project_id": world.project.public_id}
        ),
        {"remix": g.public_id},
    ).content.decode()
    assert 'name="image_as_is" value="1"' in page
