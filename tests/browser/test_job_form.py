import pytest
from playwright.sync_api import Browser, expect

from studio.generations.models import Generation
from tests.browser.test_team_flow import log_in
from tests.media import make_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_form(browser, live_server, world):
    page = browser.new_page()
    log_in(page, live_server.url, world.editor.user.username)
    page.goto(f"{live_server.url}/w/{world.workspace.slug}/p/{world.project.public_id}/")
    details = page.locator("details.new-generation")
    if details.get_attribute("open") is None:
        details.locator("> summary").click()
    return page


def test_the_form_offers_only_what_each_model_takes(live_server, browser: Browser, world, settings):
    settings.STUDIO_PUBLIC_BASE_URL = ""
    page = open_form(browser, live_server, world)
    image_field = page.locator('[data-field="image"]')

    page.locator("#generation-form").get_by_label("Model").select_option("jiekou:wan2.1-t2v")
    expect(image_field).to_be_hidden()
    expect(page.locator('[data-param="steps"] input')).to_have_value("30")
    expect(page.locator("select[name=size] option")).to_have_count(4)

    page.locator("#generation-form").get_by_label("Model").select_option("siliconflow:Wan-AI/Wan2.2-I2V-A14B")
    expect(image_field).to_be_visible()
    expect(page.locator('[data-param="steps"]')).to_have_count(0)

    page.locator("#generation-form").get_by_label("Model").select_option("dashscope:wan2.1-vace-plus")
    expect(page.locator(".job-note")).to_contain_text("STUDIO_PUBLIC_BASE_URL")
    expect(page.locator("#job-submit")).to_be_disabled()
    page.locator("#generation-form").get_by_label("Task").select_option("video_outpainting")
    expect(page.locator('[data-param="left_scale"] input')).to_be_visible()
    expect(page.locator('[data-field="video"]')).to_be_visible()


def test_an_i2v_job_on_the_local_provider(live_server, browser: Browser, world, tmp_path):
    image = make_image(tmp_path / "harbour.png", 1280, 720)
    page = open_form(browser, live_server, world)
    page.locator("#generation-form").get_by_label("Model").select_option("local:preview-i2v")
    page.locator('[data-field="image"] input[type=file]').set_input_files(str(image))
    expect(page.locator("input[name=image_asset]")).not_to_have_value("")  # checked and uploaded on pick
    page.locator("#pb-part-action").fill("boats rock gently in the harbour")
    page.locator("#pb-part-camera").fill("slow push in")
    page.locator("select[name=duration]").select_option("2")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".gcard", has_text="boats rock gently")).to_be_visible()
    g = Generation.objects.get()
    assert (g.provider, g.model, g.task, g.duration) == ("local", "preview-i2v", "i2v", 2)
    assert g.prompt.parts["camera"] == "slow push in" and g.input_links.get().asset.width == 1280


def test_a_draft_survives_a_reload_and_is_cleared_once_sent(live_server, browser: Browser, world):
    page = open_form(browser, live_server, world)
    page.locator("#generation-form").get_by_label("Model").select_option("local:preview-t2v")
    page.locator("#pb-part-action").fill("a fox trots across a frozen lake")
    page.locator("select[name=duration]").select_option("3")
    page.reload()
    expect(page.locator(".draft-note")).to_contain_text("draft is back")
    expect(page.locator("#pb-part-action")).to_have_value("a fox trots across a frozen lake")
    expect(page.locator("select[name=duration]")).to_have_value("3")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".gcard", has_text="a fox trots")).to_be_visible()
    page.reload()
    expect(page.locator(".draft-note")).to_have_count(0)
    assert page.locator("#pb-part-action").input_value() == ""


def test_outpainting_shows_the_padded_frame_as_the_scales_change(
    live_server, browser: Browser, world, tmp_path
):
    from tests.media import make_video

    clip = make_video(tmp_path / "clip.mp4", 320, 180, frames=8)
    page = open_form(browser, live_server, world)
    page.locator("#generation-form").get_by_label("Model").select_option("local:preview-vace")
    page.locator("#generation-form").get_by_label("Task").select_option("video_outpainting")
    page.locator("input[name=video]").set_input_files(str(clip))
    canvas = page.locator("canvas.outpaint-preview")
    expect(canvas).to_be_visible()
    square = page.evaluate(
        "(() => { const c = document.querySelector('canvas.outpaint-preview'); return c.width / c.height; })()"
    )
    assert square == pytest.approx(16 / 9, rel=0.02)
    page.locator('[data-param="left_scale"] input').fill("2")
    page.locator('[data-param="right_scale"] input').fill("2")
    wider = page.evaluate(
        "(() => { const c = document.querySelector('canvas.outpaint-preview'); return c.width / c.height; })()"
    )
    assert wider == pytest.approx(2 * 16 / 9, rel=0.02)


def test_siliconflow_first_frame_can_be_cropped_or_sent_as_is(live_server, browser: Browser, world, tmp_path):
    image = make_image(tmp_path / "harbour.png", 1024, 768)
    page = open_form(browser, live_server, world)
    form = page.locator("#generation-form")
    as_is = page.get_by_role("button", name="Send as is")
    form.get_by_label("Model").select_option("dashscope:wan2.2-i2v-flash")
    page.locator('[data-field="image"] input[type=file]').set_input_files(str(image))
    expect(page.locator("input[name=image_asset]")).not_to_have_value("")
    expect(as_is).to_be_hidden()  # DashScope takes any aspect: nothing to choose

    form.get_by_label("Model").select_option("siliconflow:Wan-AI/Wan2.2-I2V-A14B")
    # The aspect check stays: the crop helper is offered, and beside it "Send as is".
    expect(page.get_by_role("button", name="Apply crop")).to_be_visible()
    expect(as_is).to_be_visible()
    expect(page.locator("#job-summary")).to_contain_text("Crop it first")
    page.locator("#pb-part-action").fill("boats rock gently in the harbour")
    as_is.click()
    note = page.locator("[data-ii-as-is-note]")
    expect(note).to_contain_text("Sent as is: 4:3 (1024x768), uncropped.")
    expect(page.locator("input[name=image_as_is]")).to_have_value("1")
    expect(page.get_by_role("button", name="Apply crop")).to_be_hidden()
    expect(page.locator("#job-summary")).to_contain_text("The first frame is sent as is, 4:3 (1024x768)")
    expect(page.locator("#job-summary")).not_to_contain_text("Crop it first")

    # Changing one's mind brings the crop back; choosing again sends it as is.
    page.get_by_role("button", name="Crop it instead").click()
    expect(page.locator("input[name=image_as_is]")).to_have_value("")
    expect(page.get_by_role("button", name="Apply crop")).to_be_visible()
    as_is.click()
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".gcard", has_text="boats rock gently")).to_be_visible()
    g = Generation.objects.get()
    assert g.recipe["as_is"] == ["image"] and g.input_links.get().asset.width == 1024
