"""The guided prompt builder: compose parity cases (also run through the JavaScript in the browser test), limits,
built-in templates, and saving/searching/deleting templates as each persona."""

from __future__ import annotations

import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from studio.prompts import builder, services
from studio.prompts.counting import word_count
from studio.prompts.models import PART_NAMES, PromptTemplate, compose, sentence_start
from studio.providers import catalog
from tests.conftest import World

# (parts, expected paragraph). The browser test feeds the same cases to the builder's JavaScript compose().
COMPOSE_CASES: list[tuple[dict[str, str], str]] = [
    ({}, ""),
    ({"action": "a kite flies"}, "A kite flies."),
    (
        {"subject": "a golden retriever", "action": "runs along the beach"},
        "A golden retriever runs along the beach.",
    ),
    # [000]: the paragraph opens with one sentence of the main action: subject and action together.
    (
        {
            "subject": "a young woman in a blue denim jacket",
            "action": "walks slowly toward the camera",
            "details": "she smiles",
        },
        "A young woman in a blue denim jacket walks slowly toward the camera. She smiles.",
    ),
    # An action that reads as its own sentence stays one: a pronoun, an article, a capital, a name.
    ({"subject": "a boy", "action": "a kite flies above him"}, "A boy. A kite flies above him."),
    ({"subject": "a boy", "action": "he, laughing, runs"}, "A boy. He, laughing, runs."),
    ({"subject": "a desk", "action": "eBay parcel opens"}, "A desk. eBay parcel opens."),
    ({"subject": "A woman.", "action": "runs"}, "A woman. Runs."),
    ({"subject": "A woman,", "action": "soaked, runs"}, "A woman, soaked, runs."),
    # Chinese joins without a space.
    ({"subject": "一个女孩", "action": "在雨中奔跑"}, "一个女孩在雨中奔跑."),
    ({"subject": "a girl", "action": "在跑步"}, "A girl 在跑步."),
    (
        {"changes": "Rain starts", "subject": "A woman", "camera": "Wide shot", "action": "She runs"},
        "A woman. She runs. Wide shot. Rain starts.",
    ),
    ({"subject": "  A   woman\n\twith\u00a0red hair  "}, "A woman with red hair."),
    (
        {"action": "Stop!", "details": "Why?", "scene": "Here.", "style": "一个女孩在跑步。"},
        "Stop! Why? Here. 一个女孩在跑步。",
    ),
    ({"scene": "   \n ", "camera": "pan left"}, "Pan left."),
    ({"lighting": "Wide shot.   ", "style": "the end..."}, "Wide shot. The end..."),
    ({"subject": "a\u3000b\x1cc\x85d", "details": "e\u2028f"}, "A b c d. E f."),
    ({"subject": "a\u3000b", "action": "e\u2028f"}, "A b e f."),
    ({"subject": "zero\ufeffwidth", "details": "x\u200by"}, "Zero\ufeffwidth. X\u200by."),
    ({"details": "ends with (a bracket)", "scene": 'a "quote"'}, 'Ends with (a bracket). A "quote".'),
    ({"foo": "ignored", "camera": "Static camera"}, "Static camera."),
    ({"subject": "🎬 close-up of a cat 🐈"}, "🎬 close-up of a cat 🐈."),
    # Only the first letter changes: nothing typed is lower-cased, a capital inside the first word stays.
    (
        {"subject": "a BIG red car from the USA", "action": "drives in NYC"},
        "A BIG red car from the USA drives in NYC.",
    ),
    (
        {"subject": "iPhone on a desk", "action": "eBay parcel opens", "scene": "x-ray room"},
        "iPhone on a desk. eBay parcel opens. X-ray room.",  # "eBay": a name starts its own sentence
    ),
    (
        {"subject": "élan vital", "details": "ένα σκυλί τρέχει", "scene": "собака бежит"},
        "Élan vital. Ένα σκυλί τρέχει. Собака бежит.",
    ),
    # A part that starts with a non-letter or a CJK character is left as typed.
    (
        {
            "subject": "3 dogs",
            "action": '"stop," she says',
            "details": "{product} turns",
            "scene": "一个女孩",
        },
        '3 dogs. "stop," she says. {product} turns. 一个女孩.',
    ),
    (
        {"subject": "「走吧」他说", "details": "ßtraße sign", "camera": "(close-up)"},
        "「走吧」他说. ßtraße sign. (close-up).",
    ),
    # No full stop after a sentence end, also a CJK/full-width one or one followed by closing quotes/brackets.
    (
        {"subject": "真的\uff01", "action": "真的\uff1f", "details": "走吧\uff0e", "scene": "wait…"},
        "真的\uff01 真的\uff1f 走吧\uff0e Wait…",
    ),
    (
        {
            "subject": 'she said "stop."',
            "action": "he waved (twice!)",
            "details": "「走吧。」",
            "scene": "“Why?”",
        },
        'She said "stop." He waved (twice!) 「走吧。」 “Why?”',
    ),
    (
        {"subject": "she said “stop.”\u2019", "action": "ends with a quote”", "details": "a list: one, two"},
        "She said “stop.”\u2019 Ends with a quote”. A list: one, two.",
    ),
    # Full-width Latin letters are letters too.
    ({"subject": "\uff48\uff49", "details": "done.)]"}, "\uff28\uff49. Done.)]"),
    (
        {name: f"{name} part" for name in PART_NAMES},
        "Subject part action part. "
        + " ".join(f"{name[0].upper()}{name[1:]} part." for name in PART_NAMES[2:]),
    ),
]


@pytest.mark.parametrize(("parts", "expected"), COMPOSE_CASES)
def test_compose_cases(parts, expected):
    assert compose(parts) == expected


# (text, words by studio.prompts.counting). The browser test feeds the same texts to the builder's script.
WORD_COUNT_CASES: list[tuple[str, int]] = [
    ("", 0),
    ("  one  two\tthree\n", 3),
    ("一个女孩在雨中奔跑。", 5),  # 9 Han characters: 4.5, rounded up; the full stop counts nothing
    ("一个女孩", 2),
    ("「走吧。」他说", 2),
    ("カメラがゆっくり動く", 5),  # katakana and hiragana count like Han
    ("A woman 在跑步 smiling", 5),
    ("한국어 단어", 2),  # Korean writes spaces: counted by them
    ("𠀀𠀁𠀂", 2),  # beyond the BMP
    ("ｶﾒﾗ", 2),  # half-width katakana
    ("Hello！world", 2),  # a full-width mark separates
]


@pytest.mark.parametrize(("text", "expected"), WORD_COUNT_CASES)
def test_word_count_counts_two_cjk_characters_as_a_word(text, expected):
    assert word_count(text) == expected


def test_the_word_advice_warns_every_model_and_counts_chinese():
    chinese = "一个女孩在雨中奔跑" * 50  # 450 characters: 225 words
    for provider, model in (("jiekou", "wan2.1-t2v"), ("local", "preview-t2v")):
        clean = catalog.validate(
            catalog.JobRequest(provider=provider, model=model, task=None, prompt=chinese)
        )
        advice = [w for w in clean.warnings if "advises" in w]
        assert advice == [
            "The prompt has 225 words (2 Chinese or Japanese characters count as one); the Wan prompt guide "
            "advises at most 200. It will still run."
        ]
    short = catalog.validate(
        catalog.JobRequest(provider="local", model="preview-t2v", task=None, prompt="一个女孩" * 100)
    )
    assert not [w for w in short.warnings if "advises" in w]  # 400 characters: 200 words, not past


def test_compose_starts_each_sentence_with_a_capital_and_changes_nothing_else():
    parts = {
        "subject": "a golden retriever with a RED collar",
        "action": "runs along the beach",
        "details": "ears flap, tongue out",
        "scene": "a sunlit beach at low tide.",
        "camera": "tracking shot, low angle",
        "lighting": "golden hour sunlight",
        "style": "real-life footage",
        "changes": "a wave washes over its paws!",
    }
    text = compose(parts)
    assert text == (
        "A golden retriever with a RED collar runs along the beach. Ears flap, tongue out. A sunlit beach at "
        "low tide. Tracking shot, low angle. Golden hour sunlight. Real-life footage. A wave washes over its "
        "paws!"
    )
    # Every sentence is the typed part with only its first letter raised (subject and action are one).
    rest = text
    pieces = [f"{parts['subject']} {parts['action']}"] + [parts[name] for name in PART_NAMES[2:]]
    for name, typed in zip(["opening", *PART_NAMES[2:]], pieces, strict=True):
        sentence = typed[0].upper() + typed[1:]
        if not sentence.endswith((".", "!")):
            sentence += "."
        assert rest.startswith(sentence), name
        rest = rest[len(sentence) :].lstrip(" ")
    assert rest == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("a dog", "A dog"),
        ("A dog", "A dog"),
        ("aBC", "aBC"),  # a capital inside the first word: a name like iPhone, left alone
        ("abc DEF", "Abc DEF"),
        ("über cool", "Über cool"),
        ("ß", "ß"),  # its capital is two letters: left alone
        ("ǆ", "Ǆ"),
        ("𐐨 deseret", "𐐀 deseret"),  # beyond the BMP
        ("ⓐ circled", "ⓐ circled"),  # a symbol, not a letter
        ("漢字", "漢字"),
        ("", ""),
    ],
)
def test_sentence_start(typed, expected):
    assert sentence_start(typed) == expected


# ------------------------------------------------------------------------------------------------ vocabulary


def test_every_part_has_a_hint_and_chips_and_no_chip_repeats():
    assert set(builder.HINTS) == set(PART_NAMES) == set(builder.CHIPS)
    for name, groups in builder.CHIPS.items():
        phrases = [p for _, ps in groups for p in ps]
        assert phrases, name
        assert len(phrases) == len({p.lower() for p in phrases}), name
        assert all(p == p.strip() and p[-1] not in ".!?" for p in phrases), name


def test_camera_chips_cover_shot_size_angle_and_movement():
    groups = dict(builder.CHIPS["camera"])
    assert {"Shot size", "Angle", "Movement"} <= set(groups)
    assert "close-up" in groups["Shot size"] and "wide shot" in groups["Shot size"]
    assert "low angle" in groups["Angle"] and "static camera" in groups["Movement"]


# ------------------------------------------------------------------------------------------------ limits


def test_limits_for_follows_the_catalog():
    sf = builder.limits_for("siliconflow", "Wan-AI/Wan2.2-T2V-A14B")
    assert sf["max_chars"] is None and sf["advised_words"] == 200 and sf["negative_max_chars"] is None
    turbo = builder.limits_for("dashscope", "wanx2.1-i2v-turbo")
    # The guide's 200-word advice is a note for every model, not only the vendor that repeats it.
    assert (turbo["max_chars"], turbo["advised_words"], turbo["negative_max_chars"]) == (800, 200, 500)
    assert {lim["advised_words"] for lim in builder.all_limits().values()} == {200}
    vace = builder.limits_for("dashscope", "wan2.1-vace-plus")
    assert vace["max_chars"] == 800 and vace["negative_allowed"] is False
    jiekou = builder.limits_for("jiekou", "wan2.1-t2v")
    assert jiekou["max_chars"] == 2000 and jiekou["negative_max_chars"] == 2000


def test_all_limits_has_every_catalog_model_keyed_like_the_job_form():
    limits = builder.all_limits()
    assert set(limits) == {m.key for m in catalog.iter_models()}
    assert limits["dashscope:wanx2.1-i2v-turbo"]["max_chars"] == 800
    with pytest.raises(catalog.CatalogError):
        builder.limits_for("dashscope", "nope")


# ------------------------------------------------------------------------------------------------ parts in


def test_parts_from_post_prefers_json_then_falls_back_to_the_textareas():
    assert builder.parts_from_post(
        {"parts_json": json.dumps({"action": "runs", "evil": "x", "scene": "  "})}
    ) == {"action": "runs"}
    assert builder.parts_from_post({"parts_json": "", "part_camera": "pan left", "part_style": ""}) == {
        "camera": "pan left"
    }
    assert builder.parts_from_post({"parts_json": "{not json", "part_scene": "a beach"}) == {
        "scene": "a beach"
    }
    assert builder.parts_from_post({"parts_json": "[1, 2]"}) == {}
    assert builder.clean_parts({"action": 5, "scene": None, "style": True}) == {"action": "5"}


def test_placeholders_are_listed_once_in_order():
    assert builder.placeholders("A {product} on {backdrop colour}, the {product}") == [
        "{product}",
        "{backdrop colour}",
    ]
    assert builder.placeholders("no blanks {Not one} {}") == []


# ------------------------------------------------------------------------------------------------ built-ins


def test_builtin_templates_are_complete_and_fit_every_model():
    names = [t["name"] for t in builder.BUILTIN_TEMPLATES]
    assert 5 <= len(names) <= 6 and len(set(names)) == len(names)
    for t in builder.BUILTIN_TEMPLATES:
        assert set(t["parts"]) == set(PART_NAMES), t["name"]
        text = compose(t["parts"])
        assert builder.placeholders(text), f"{t['name']} has no blanks to fill in"
        assert len(text) <= 800 and len(text.split()) <= 200, t["name"]  # fits the tightest models
        assert len(t["negative"]) <= 500 and len(t["description"]) <= 300 and len(t["name"]) <= 100


@pytest.mark.django_db(transaction=True)
def test_builtins_are_restored_by_every_migrate():
    from django.core.management import call_command

    names = sorted(t["name"] for t in builder.BUILTIN_TEMPLATES)
    PromptTemplate.objects.filter(workspace=None).delete()
    PromptTemplate.objects.create(workspace=None, name="Product turntable", parts={"subject": "stale"})
    call_command("migrate", verbosity=0)  # nothing to migrate: the post_migrate hook still runs
    assert sorted(PromptTemplate.objects.filter(workspace=None).values_list("name", flat=True)) == names
    turntable = PromptTemplate.objects.get(workspace=None, name="Product turntable")
    assert "{product}" in turntable.parts["subject"] and turntable.negative


@pytest.mark.django_db
def test_sync_builtin_templates_is_idempotent():
    services.sync_builtin_templates()
    services.sync_builtin_templates()
    assert PromptTemplate.objects.filter(workspace=None).count() == len(builder.BUILTIN_TEMPLATES)


# ------------------------------------------------------------------------------------------------ helpers


@pytest.fixture
def builtins(db):
    # Transactional tests (browser tests) flush the data migration's rows; put them back for these tests.
    services.sync_builtin_templates()


def url(name, world: World, **kwargs):
    return reverse(f"prompts:{name}", kwargs={"slug": world.workspace.slug, **kwargs})


def own_template(world: World, name="Harbour walk", **kwargs) -> PromptTemplate:
    return PromptTemplate.objects.create(
        workspace=world.workspace,
        name=name,
        description=kwargs.pop("description", "A walk by the sea"),
        parts=kwargs.pop(
            "parts", {"subject": "A woman in a yellow raincoat", "action": "walks along the pier"}
        ),
        negative=kwargs.pop("negative", "blurry"),
        created_by=world.owner.user,
    )


def rival_template(world: World, name="Rival secret") -> PromptTemplate:
    return PromptTemplate.objects.create(
        workspace=world.other_workspace, name=name, parts={"action": "a turntable spins secretly"}
    )


HTMX = {"HTTP_HX_REQUEST": "true"}


# ------------------------------------------------------------------------------------------------ save


def test_editor_saves_the_builder_parts_as_a_template_with_htmx(world, builtins):
    response = world.editor.client.post(
        url("template_save", world),
        {
            "template_name": "  Harbour   walk ",
            "template_description": "By the sea",
            "parts_json": json.dumps({"subject": "A woman", "camera": "slow push in", "bogus": "x"}),
            "negative": " blurry ",
        },
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Saved “Harbour walk”" in body
    assert 'hx-swap-oob="true"' in body and ">Harbour walk</option>" in body  # the picker refreshes itself
    t = PromptTemplate.objects.get(workspace=world.workspace)
    assert (t.name, t.description, t.negative) == ("Harbour walk", "By the sea", "blurry")
    assert t.parts == {"subject": "A woman", "camera": "slow push in"}
    assert t.created_by == world.editor.user


def test_save_without_htmx_redirects_to_the_list_with_a_message(world):
    response = world.owner.client.post(
        url("template_save", world), {"template_name": "Plain", "part_action": "a kite flies"}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("templates", world)
    assert "Saved the template “Plain”." in response.content.decode()
    assert PromptTemplate.objects.get(workspace=world.workspace, name="Plain").parts == {
        "action": "a kite flies"
    }


def test_duplicate_name_in_the_workspace_gets_a_clear_message(world, builtins):
    own_template(world, name="Harbour walk")
    response = world.editor.client.post(
        url("template_save", world),
        {"template_name": "harbour WALK", "parts_json": '{"action": "runs"}'},
        **HTMX,
    )
    assert response.status_code == 200
    assert "This workspace already has a template called “Harbour walk”" in response.content.decode()
    assert PromptTemplate.objects.filter(workspace=world.workspace).count() == 1


def test_a_builtin_name_is_refused_but_another_workspace_may_use_the_same_name(world, builtins):
    response = world.editor.client.post(
        url("template_save", world),
        {"template_name": "Talking head", "parts_json": '{"action": "x"}'},
        **HTMX,
    )
    assert "“Talking head” is a built-in template" in response.content.decode()
    rival_template(world, name="Shared name")
    response = world.editor.client.post(
        url("template_save", world), {"template_name": "Shared name", "parts_json": '{"action": "x"}'}, **HTMX
    )
    assert "Saved “Shared name”" in response.content.decode()


def test_save_needs_a_name_and_at_least_one_part(world):
    response = world.editor.client.post(
        url("template_save", world), {"template_name": " ", "parts_json": "{}"}, **HTMX
    )
    body = response.content.decode()
    assert "Give the template a name." in body
    assert "Write at least one part of the prompt" in body
    assert not PromptTemplate.objects.filter(workspace=world.workspace).exists()


def test_viewer_cannot_save_and_outsider_sees_nothing(world):
    data = {"template_name": "Nope", "parts_json": '{"action": "x"}'}
    assert world.viewer.client.post(url("template_save", world), data, **HTMX).status_code == 403
    assert world.outsider.client.post(url("template_save", world), data, **HTMX).status_code == 404
    assert not PromptTemplate.objects.filter(name="Nope").exists()


# ------------------------------------------------------------------------------------------------ list and search


def test_list_shows_own_templates_first_then_builtins_never_another_workspaces(world, builtins):
    own_template(world)
    rival_template(world)
    body = world.viewer.client.get(url("templates", world)).content.decode()
    assert body.index("Harbour walk") < body.index("Product turntable")
    assert "Rival secret" not in body
    assert "Use in the builder" in body
    assert "Delete" not in body  # viewers can't delete


@pytest.mark.parametrize(
    ("q", "found", "missing"),
    [
        ("turntable", "Product turntable", "Talking head"),  # name
        ("ANIME", "Anime-style scene", "Cozy interior"),  # name, any case
        ("cherry blossom", "Anime-style scene", "Product turntable"),  # a part's text only
        ("shop pages", "Product turntable", "Anime-style scene"),  # description
        ("yellow raincoat", "Harbour walk", "Product turntable"),  # the workspace's own parts
        ("pier sea", "Harbour walk", "Talking head"),  # every word must match somewhere
    ],
)
def test_search_over_name_description_and_parts(world, builtins, q, found, missing):
    own_template(world)
    rival_template(world)
    body = world.editor.client.get(url("templates", world), {"q": q}).content.decode()
    assert found in body and missing not in body
    assert "Rival secret" not in body


def test_search_keys_do_not_match_part_names(world, builtins):
    body = world.editor.client.get(url("templates", world), {"q": "lighting"}).content.decode()
    assert "No template matches “lighting”." in body


def test_htmx_search_returns_only_the_list_partial(world, builtins):
    response = world.editor.client.get(
        url("templates", world), {"q": "turntable"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="template-list"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="template-list"')
    assert "<html" not in body and "Product turntable" in body
    assert "Rival" not in body


def test_outsider_cannot_list_or_load(world, builtins):
    own = own_template(world)
    assert world.outsider.client.get(url("templates", world)).status_code == 404
    assert world.outsider.client.get(url("template_parts", world, template_id=own.pk)).status_code == 404


# ------------------------------------------------------------------------------------------------ load


def test_template_parts_json_for_own_and_builtin(world, builtins):
    own = own_template(world, negative="text, watermark")
    data = world.viewer.client.get(url("template_parts", world, template_id=own.pk)).json()
    assert (
        data["name"] == "Harbour walk" and data["builtin"] is False and data["negative"] == "text, watermark"
    )
    assert list(data["parts"]) == list(PART_NAMES)
    assert data["parts"]["subject"] == "A woman in a yellow raincoat" and data["parts"]["scene"] == ""
    assert data["text"] == "A woman in a yellow raincoat walks along the pier."
    anime = PromptTemplate.objects.get(workspace=None, name="Anime-style scene")
    data = world.viewer.client.get(url("template_parts", world, template_id=anime.pk)).json()
    assert data["builtin"] is True and "{character}" in data["blanks"]


def test_another_workspaces_template_is_a_404_through_your_own_slug(world):
    secret = rival_template(world)
    assert world.owner.client.get(url("template_parts", world, template_id=secret.pk)).status_code == 404
    assert world.owner.client.get(url("builder", world) + f"?template={secret.pk}").status_code == 404


# ------------------------------------------------------------------------------------------------ delete


def test_editor_deletes_own_template(world):
    own = own_template(world)
    response = world.editor.client.post(url("template_delete", world, template_id=own.pk), follow=True)
    assert "Deleted the template “Harbour walk”." in response.content.decode()
    assert not PromptTemplate.objects.filter(pk=own.pk).exists()


def test_htmx_delete_returns_an_empty_row(world):
    own = own_template(world)
    response = world.owner.client.post(url("template_delete", world, template_id=own.pk), **HTMX)
    assert response.status_code == 200 and response.content == b""


def test_viewer_403_outsider_404_builtin_and_rival_404_on_delete(world, builtins):
    own = own_template(world)
    assert world.viewer.client.post(url("template_delete", world, template_id=own.pk)).status_code == 403
    assert world.outsider.client.post(url("template_delete", world, template_id=own.pk)).status_code == 404
    builtin = PromptTemplate.objects.filter(workspace=None).first()
    assert world.owner.client.post(url("template_delete", world, template_id=builtin.pk)).status_code == 404
    secret = rival_template(world)
    assert world.owner.client.post(url("template_delete", world, template_id=secret.pk)).status_code == 404
    assert PromptTemplate.objects.filter(pk__in=[own.pk, builtin.pk, secret.pk]).count() == 3


# ------------------------------------------------------------------------------------------------ pages


def test_builder_page_renders_the_parts_chips_limits_and_model_select(world, builtins):
    body = world.viewer.client.get(url("builder", world)).content.decode()
    for name in PART_NAMES:
        assert f'name="part_{name}"' in body
    assert 'data-pb-chip="slow push in"' in body
    assert 'id="pb-limits"' in body and '"dashscope:wanx2.1-i2v-turbo"' in body
    assert '<select name="model" id="id_model">' in body
    assert 'name="parts_json"' in body and 'name="prompt"' in body and 'name="negative"' in body
    assert "Product turntable</option>" in body
    assert "Save as template" not in body  # viewers can't save
    assert "Save as template" in world.editor.client.get(url("builder", world)).content.decode()


def test_builder_page_starts_from_a_template(world):
    own = own_template(world)
    body = world.editor.client.get(
        url("builder", world), {"template": own.pk, "model": "jiekou:wan2.1-t2v"}
    ).content
    body = body.decode()
    assert ">A woman in a yellow raincoat</textarea>" in body
    assert '<option value="jiekou:wan2.1-t2v" selected>' in body
    assert "Started from “Harbour walk”" in body


def test_partial_keeps_a_hand_edited_prompt_when_the_form_comes_back(world):
    ctx = builder.builder_context(
        world.editor.membership,
        parts={"action": "a kite flies"},
        prompt="A red kite climbs over the dunes.",
        negative="blurry",
        errors={"prompt": ["Too long."]},
    )
    assert ctx["manual"] is True
    html = render_to_string("prompts/builder.html#prompt-builder", {"builder": ctx})
    assert 'data-manual="1"' in html
    assert ">A red kite climbs over the dunes.</textarea>" in html
    assert ">blurry</textarea>" in html and "Too long." in html
    plain = builder.builder_context(
        world.editor.membership, parts={"action": "a kite flies"}, prompt="A kite flies."
    )
    assert plain["manual"] is False
