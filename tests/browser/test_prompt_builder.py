"""The prompt builder in a real browser: chips and typing make the same paragraph as the server's compose(),
counts follow the chosen model, hand edits are never overwritten without asking, templates save and load.

Set STUDIO_SCREENSHOT_DIR (e.g. docs/screenshots) to also save prompt-builder.png."""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.prompts import services
from studio.prompts.counting import word_count
from studio.prompts.models import CLAUSE_OPENERS, CLOSERS, PART_NAMES, SENTENCE_ENDS, PromptTemplate, compose
from tests.browser.test_team_flow import log_in
from tests.test_prompt_builder import COMPOSE_CASES, WORD_COUNT_CASES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def part(page: Page, name: str):
    return page.locator(f"[data-pb-part-wrap={name}]")


def chip(page: Page, name: str, phrase: str):
    return part(page, name).locator(f'[data-pb-chip="{phrase}"]')


def preview_text(page: Page) -> str:
    return page.locator("[data-pb-preview]").text_content()


@pytest.fixture
def builder_page(live_server, page: Page, world):
    services.sync_builtin_templates()  # transactional tests flush the data migration's rows
    log_in(page, live_server.url, world.editor.user.username)
    page.goto(f"{live_server.url}/w/{world.workspace.slug}/prompts/")
    expect(page.get_by_role("heading", name="Prompt builder")).to_be_visible()
    page.wait_for_function("() => window.StudioPromptBuilder !== undefined")
    return page


def test_javascript_compose_and_counts_match_python(builder_page: Page):
    page = builder_page
    assert page.evaluate("window.StudioPromptBuilder.PART_NAMES") == list(PART_NAMES)
    cases = [parts for parts, _ in COMPOSE_CASES]
    got = page.evaluate("(cases) => cases.map((p) => window.StudioPromptBuilder.compose(p))", cases)
    assert got == [compose(p) for p in cases] == [expected for _, expected in COMPOSE_CASES]
    # The same sentence-end and closing-mark lists as the server's.
    assert page.evaluate(
        "[window.StudioPromptBuilder.SENTENCE_ENDS, window.StudioPromptBuilder.CLOSERS]"
    ) == [
        SENTENCE_ENDS,
        CLOSERS,
    ]
    texts = ["", "  one  two\tthree\n", "a\u3000b\x1cc\ufeffd", "🎬 emoji 🐈 text", " 。漢字\u2029x "]
    counts = page.evaluate(
        "(ts) => ts.map((t) => [window.StudioPromptBuilder.words(t).length, window.StudioPromptBuilder.charCount(t)])",
        texts,
    )
    assert counts == [[word_count(t), len(t.strip())] for t in texts]
    # Words as the server counts them: two Chinese or Japanese characters a word, for the guide's advice.
    samples = [t for t, _ in WORD_COUNT_CASES]
    got = page.evaluate("(ts) => ts.map((t) => window.StudioPromptBuilder.wordCount(t))", samples)
    assert got == [word_count(t) for t in samples] == [n for _, n in WORD_COUNT_CASES]
    assert set(page.evaluate("window.StudioPromptBuilder.CLAUSE_OPENERS")) == CLAUSE_OPENERS


def sent(page: Page) -> dict[str, str]:
    """What the builder's form would send: the final text and the parts, as the browser encodes them."""
    return page.evaluate(
        """() => {
            const data = new FormData(document.querySelector("[data-prompt-builder]").closest("form"));
            return {prompt: data.get("prompt"), parts_json: data.get("parts_json")};
        }"""
    )


def test_live_preview_capitalises_each_sentence_and_sends_pythons_paragraph(builder_page: Page):
    page = builder_page
    typed = {
        "subject": "a golden retriever",
        "action": "runs along the beach",
        "details": "iPhone photos on the sand, its ears flap",
        "scene": "「海边」 at low tide",
        "camera": "tracking shot, low angle.",
        "lighting": "golden hour",
        "style": "she said “slow motion.”",
        "changes": "一只海鸥飞过",
    }
    for name, text in typed.items():
        part(page, name).locator("textarea").fill(text)
    expected = (
        "A golden retriever runs along the beach. iPhone photos on the sand, its ears flap. 「海边」 at low tide. "
        "Tracking shot, low angle. Golden hour. She said “slow motion.” 一只海鸥飞过."
    )
    assert compose(typed) == expected
    expect(page.locator("[data-pb-preview]")).to_have_text(expected)
    # What is sent is Python's compose of the same parts, and the parts exactly as typed.
    form = sent(page)
    assert form["prompt"] == expected
    assert json.loads(form["parts_json"]) == typed
    assert compose(json.loads(form["parts_json"])) == form["prompt"]
    # Typing in a part updates the paragraph at once; what the person typed is never lower-cased.
    part(page, "action").locator("textarea").fill("runs toward the CAMERA")
    typed["action"] = "runs toward the CAMERA"
    expect(page.locator("[data-pb-preview]")).to_have_text(compose(typed))
    assert "A golden retriever runs toward the CAMERA." in preview_text(page)
    assert sent(page)["prompt"] == compose(typed)


def test_build_count_switch_models_edit_save_and_load(builder_page: Page, world):
    page = builder_page
    # Chips in several parts, typing in others.
    chip(page, "subject", "a young woman").click()
    chip(page, "subject", "wearing a blue denim jacket").click()
    part(page, "action").locator("textarea").fill("She walks   slowly along the harbour wall")
    chip(page, "camera", "medium shot").click()
    chip(page, "camera", "eye level").click()
    chip(page, "camera", "slow push in").click()
    chip(page, "lighting", "golden hour sunlight").click()
    chip(page, "lighting", "warm tones").click()
    part(page, "changes").locator("textarea").fill("A gull lands beside her!")
    parts = {
        "subject": "A young woman, wearing a blue denim jacket",
        "action": "She walks   slowly along the harbour wall",
        "camera": "Medium shot, eye level, slow push in",
        "lighting": "Golden hour sunlight, warm tones",
        "changes": "A gull lands beside her!",
    }
    expected = compose(parts)
    assert expected == (
        "A young woman, wearing a blue denim jacket. She walks slowly along the harbour wall. Medium shot, "
        "eye level, slow push in. Golden hour sunlight, warm tones. A gull lands beside her!"
    )
    expect(page.locator("[data-pb-preview]")).to_have_text(expected)
    assert page.locator("[data-pb-prompt]").input_value() == expected
    assert json.loads(page.locator("[data-pb-parts-json]").input_value()) == parts
    expect(chip(page, "camera", "eye level")).to_have_attribute("aria-pressed", "true")

    # A pressed chip takes its phrase out again.
    chip(page, "camera", "eye level").click()
    expect(part(page, "camera").locator("textarea")).to_have_value("Medium shot, slow push in")
    chip(page, "camera", "eye level").click()
    expect(part(page, "camera").locator("textarea")).to_have_value("Medium shot, slow push in, eye level")
    parts["camera"] = "Medium shot, slow push in, eye level"
    expected = compose(parts)
    expect(page.locator("[data-pb-preview]")).to_have_text(expected)

    # Counts against the default model (local preview: 2000 characters; the guide's word advice, as for
    # every model).
    words, chars = len(expected.split()), len(expected)
    expect(page.locator("[data-pb-words]")).to_have_text(f"{words} words · advice: at most 200")
    expect(page.locator("[data-pb-chars]")).to_have_text(f"{chars} / 2000 characters · limit")

    # SiliconFlow: word advice, no character limit.
    page.get_by_label("Model").select_option("siliconflow:Wan-AI/Wan2.2-T2V-A14B")
    expect(page.locator("[data-pb-words]")).to_have_text(f"{words} words · advice: at most 200")
    expect(page.locator("[data-pb-chars]")).to_have_text(f"{chars} characters · no limit stated")

    # DashScope Wan 2.1 I2V Turbo: 800 characters.
    page.get_by_label("Model").select_option("dashscope:wanx2.1-i2v-turbo")
    expect(page.locator("[data-pb-chars]")).to_have_text(f"{chars} / 800 characters · limit")
    expect(page.locator("[data-pb-chars-meter]")).to_have_attribute("data-state", "ok")
    expect(page.locator("[data-pb-limit-msg]")).to_be_hidden()

    # Overflow: a long scene pushes it past 800.
    scene = "A crowded harbour with fishing boats, " * 25
    part(page, "scene").locator("textarea").fill(scene)
    parts["scene"] = scene
    long_text = compose(parts)
    assert len(long_text) > 800
    expect(page.locator("[data-pb-chars]")).to_have_text(f"{len(long_text)} / 800 characters · limit")
    expect(page.locator("[data-pb-chars-meter]")).to_have_attribute("data-state", "over")
    expect(page.locator("[data-pb-limit-msg]")).to_be_visible()
    expect(page.locator("[data-pb-limit-msg]")).to_contain_text(
        f"Over the limit by {len(long_text) - 800} characters: Wan 2.1 I2V Turbo takes at most 800."
    )
    part(page, "scene").locator("textarea").fill("")
    del parts["scene"]
    expect(page.locator("[data-pb-chars-meter]")).to_have_attribute("data-state", "ok")

    # The negative prompt has its own count (500 for this model).
    page.locator("[data-pb-negative]").fill("blurry")
    page.locator('[data-pb-neg-chip="watermark"]').click()
    expect(page.locator("[data-pb-negative]")).to_have_value("blurry, watermark")
    expect(page.locator("[data-pb-neg-count]")).to_have_text("17 / 500 characters · limit")

    # Edit the final text by hand: a later change to the parts asks before overwriting it.
    page.get_by_label("Edit the final text").check()
    final = page.locator("[data-pb-prompt]")
    expect(final).to_be_visible()
    final.fill(expected + " Seen from a passing boat.")
    hand_text = expected + " Seen from a passing boat."
    expect(page.locator("[data-pb-words]")).to_have_text(
        f"{len(hand_text.split())} words · advice: at most 200"
    )
    part(page, "details").locator("textarea").fill("Her scarf flutters")
    parts["details"] = "Her scarf flutters"
    ask = page.locator("[data-pb-ask]")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("You edited the final text by hand")
    page.get_by_role("button", name="Keep my text").click()
    expect(ask).to_be_hidden()
    assert final.input_value() == hand_text
    expect(page.locator("[data-pb-manual-note]")).to_be_visible()
    page.get_by_role("button", name="Use the parts' text").click()
    expect(final).to_have_value(compose(parts))
    page.get_by_label("Edit the final text").uncheck()
    expect(page.locator("[data-pb-preview]")).to_have_text(compose(parts))

    # Save as template (Enter in the name saves; it must not submit the surrounding form).
    page.get_by_text("Save as template").click()
    page.get_by_label("Template name").fill("Harbour walk")
    page.get_by_label("Template name").press("Enter")
    expect(page.locator("#pb-save-result")).to_contain_text("Saved “Harbour walk”")
    saved = PromptTemplate.objects.get(workspace=world.workspace, name="Harbour walk")
    assert saved.parts == parts and saved.negative == "blurry, watermark"
    expect(page.get_by_label("Template name")).to_have_value("")
    # A second save under the same name explains itself.
    page.get_by_label("Template name").fill("harbour walk")
    page.get_by_role("button", name="Save template").click()
    expect(page.locator("#pb-save-result")).to_contain_text("already has a template called “Harbour walk”")

    # Clear the builder, then load the template back.
    page.get_by_role("button", name="Clear all").click()
    page.get_by_role("button", name="Clear all").last.click()  # the inline question's answer
    for name in PART_NAMES:
        expect(part(page, name).locator("textarea")).to_have_value("")
    expect(page.locator("[data-pb-preview]")).to_have_text("")
    expect(page.locator("[data-pb-words]")).to_have_text("0 words · advice: at most 200")
    page.get_by_label("Start from a template").select_option(label="Harbour walk")
    for name in PART_NAMES:
        expect(part(page, name).locator("textarea")).to_have_value(parts.get(name, ""))
    expect(page.locator("[data-pb-negative]")).to_have_value("blurry, watermark")
    expect(page.locator("[data-pb-preview]")).to_have_text(compose(parts))
    expect(page.locator("[data-pb-status]")).to_contain_text("Loaded “Harbour walk”.")

    # A built-in over existing work asks first, then selects the first blank to fill in.
    page.get_by_label("Start from a template").select_option(label="Product turntable")
    page.get_by_role("button", name="Replace", exact=True).click()
    subject = part(page, "subject").locator("textarea")
    expect(subject).to_have_value("A {product} with a {finish} finish")
    expect(subject).to_be_focused()
    assert (
        page.evaluate(
            "(() => { const t = document.activeElement; return t.value.slice(t.selectionStart, t.selectionEnd); })()"
        )
        == "{product}"
    )
    expect(page.locator("[data-pb-blanks]")).to_contain_text("Fill in the blanks: {product}, {finish}")
    expect(page.locator(".pb-preview mark.pb-blank").first).to_have_text("{product}")

    shots = os.environ.get("STUDIO_SCREENSHOT_DIR")
    if shots:
        page.get_by_role("button", name="Clear all").click()
        page.get_by_role("button", name="Clear all").last.click()
        page.get_by_label("Model").select_option("dashscope:wanx2.1-i2v-turbo")
        page.get_by_label("Start from a template").select_option(label="Talking head")
        part(page, "subject").locator("textarea").fill(
            "A woman in her thirties with short dark hair, wearing a charcoal blazer"
        )
        part(page, "scene").locator("textarea").fill(
            "A bright loft office with plants in the background, softly out of focus"
        )
        page.locator("[data-pb-negative]").fill("distorted face, extra fingers, text, watermark")
        page.get_by_label("Edit the final text").focus()  # nothing selected or highlighted in the parts
        page.mouse.move(0, 0)
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.evaluate("window.scrollTo(0, 0)")
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / "prompt-builder.png"))
