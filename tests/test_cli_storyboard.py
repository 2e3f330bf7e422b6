"""`manage.py storyboard`: create, add shots with takes made by `generate`, export, all with --json;
bad input exits 2 and saves nothing."""

import io
import json

import pytest
from django.core.management import call_command

from studio.storyboards.models import Export, Shot, Storyboard
from tests.test_storyboard_media import info

pytestmark = pytest.mark.django_db(transaction=True)


def run(command: str, *args: str) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    text = out.getvalue().strip()
    return code, (json.loads(text) if text.startswith("{") else None), err.getvalue()


def take(prompt: str, *extra: str) -> str:
    code, data, err = run(
        "generate",
        *("--workspace", "acme", "--provider", "local", "--model", "preview-t2v", "--prompt", prompt),
        *("--duration", "2", "--project", "Film", "--wait", "--json", *extra),
    )
    assert code == 0, err
    return data["id"]


def test_a_storyboard_made_and_exported_from_the_command_line(world):
    code, board, err = run(
        "storyboard",
        *("create", "--workspace", "acme", "--name", "Kite", "--project", "Film", "--subject", "A red kite"),
        *("--size", "320x180", "--fps", "16", "--crossfade", "0.25", "--json"),
    )
    assert code == 0, err
    assert (board["size"], board["fps"], board["crossfade"], board["shots"]) == ("320x180", 16, 0.25, 0)
    takes = [take("the kite rises"), take("the kite dives", "--size", "480x832")]
    shots = []
    for i, generation in enumerate(takes):
        code, shot, err = run(
            "storyboard",
            *("add-shot", "--workspace", "acme", f"--storyboard={board['id']}", "--json"),
            *("--provider", "local", "--model", "preview-t2v", "--prompt", f"shot {i}", "--duration", "2"),
            *(f"--take={generation}", "--in", "0.5", "--continuity", "last_frame" if i else "none"),
        )
        assert code == 0, err
        shots.append(shot)
    assert [(s["position"], s["take"], s["in_point"]) for s in shots] == [
        (1, takes[0], 0.5),
        (2, takes[1], 0.5),
    ]
    assert shots[1]["continuity"] == "last_frame" and shots[1]["recipe"]["duration"] == 2

    code, film, err = run(
        "storyboard", "export", "--workspace", "acme", f"--storyboard={board['id']}", "--json"
    )
    assert code == 0, err
    assert film["status"] == "succeeded" and film["progress"] == 100 and film["shots"] == 2
    got = info(film["video"])
    assert got["sizes"] == {(320, 180)}
    assert abs(got["duration"] - (1.5 + 1.5 - 0.25)) <= 2 / 16
    assert abs(film["duration"] - got["duration"]) < 1e-6


@pytest.mark.parametrize(
    "args, message",
    [
        (["create", "--workspace", "nowhere", "--name", "x"], "no workspace 'nowhere'"),
        (["create", "--workspace", "acme", "--name", "x", "--size", "big"], "--size takes WxH"),
        (["create", "--workspace", "acme", "--name", "x", "--size", "1281x720"], "export_width"),
        (["create", "--workspace", "acme", "--name", " "], "Give the storyboard a name"),
        (["export", "--workspace", "acme", "--storyboard", "nope"], "no storyboard 'nope'"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_saves_nothing(world, args, message):
    code, data, err = run("storyboard", *args)
    assert code == 2
    assert message in err and err.startswith("error: ")
    assert data is None
    assert not Storyboard.objects.exists()


def test_a_shot_of_an_unknown_model_or_an_export_without_takes_exits_2(world):
    code, board, _ = run("storyboard", "create", "--workspace", "acme", "--name", "Kite", "--json")
    add = ("add-shot", "--workspace", "acme", f"--storyboard={board['id']}", "--provider", "local")
    code, _, err = run("storyboard", *add, "--model", "preview-nothing", "--prompt", "x")
    assert code == 2 and "preview-nothing" in err
    code, _, err = run("storyboard", *add, "--model", "preview-t2v", "--take", "nope")
    assert code == 2 and "no generation 'nope'" in err
    assert not Shot.objects.exists()
    code, _, err = run("storyboard", *add, "--model", "preview-t2v", "--prompt", "x")
    assert code == 0
    code, _, err = run("storyboard", "export", "--workspace", "acme", f"--storyboard={board['id']}")
    assert code == 2 and "Choose a finished take for shot 1" in err
    assert not Export.objects.exists()
    # Another workspace's storyboard is not found through this one.
    code, _, err = run("storyboard", "export", "--workspace", "rival", f"--storyboard={board['id']}")
    assert code == 2 and "no storyboard" in err


def test_shots_generated_in_turn_from_the_command_line_continue_from_the_last_frame(world):
    code, board, err = run(
        "storyboard", "create", "--workspace", "acme", "--name", "Kite", "--size", "320x180", "--json"
    )
    add = ("add-shot", "--workspace", "acme", f"--storyboard={board['id']}", "--provider", "local", "--json")
    run("storyboard", *add, "--model", "preview-t2v", "--prompt", "the kite rises", "--duration", "2")
    run(
        "storyboard",
        *add,
        "--model",
        "preview-i2v",
        "--prompt",
        "it dives",
        "--duration",
        "2",
        "--continuity",
        "last_frame",
    )
    gen = ("generate", "--workspace", "acme", f"--storyboard={board['id']}", "--wait", "--choose", "--json")
    code, first, err = run("storyboard", *gen, "--shot", "1")
    assert code == 0, err
    code, second, err = run("storyboard", *gen, "--shot", "2")
    assert code == 0, err
    assert (second["model"], second["task"], second["status"]) == ("preview-i2v", "i2v", "succeeded")
    shots = list(Shot.objects.order_by("position"))
    assert [s.take.public_id for s in shots] == [first["id"], second["id"]]
    assert shots[1].take.input_links.get().slot == "image"
    code, _, err = run("storyboard", *gen, "--shot", "3")
    assert code == 2 and "has no shot 3" in err
    code, film, err = run(
        "storyboard", "export", "--workspace", "acme", f"--storyboard={board['id']}", "--json"
    )
    assert code == 0 and film["status"] == "succeeded", err


def test_an_id_that_begins_with_a_dash_is_given_with_an_equals_sign(world):
    Storyboard.objects.create(
        workspace=world.workspace, project=world.project, name="Kite", public_id="-dashed-id-00000"
    )
    code, _, err = run("storyboard", "export", "--workspace", "acme", "--storyboard=-dashed-id-00000")
    assert code == 2 and "no shots yet" in err  # found, and refused for what it lacks


def test_generate_from_a_shot_makes_the_rest_in_order_across_continuities_then_exports(world):
    import av

    code, board, err = run(
        "storyboard", "create", "--workspace", "acme", "--name", "Kite", "--size", "320x180", "--json"
    )
    add = ("add-shot", "--workspace", "acme", f"--storyboard={board['id']}", "--provider", "local", "--json")
    run("storyboard", *add, "--model", "preview-t2v", "--prompt", "the kite rises", "--duration", "2")
    run("storyboard", *add, "--model", "preview-i2v", "--prompt", "it dives", "--duration", "2",
        "--continuity", "last_frame")  # fmt: skip
    run("storyboard", *add, "--model", "preview-vace", "--prompt", "it lands", "--continuity", "extension")
    gen = ("generate", "--workspace", "acme", f"--storyboard={board['id']}", "--wait", "--json")
    code, chain, err = run("storyboard", *gen, "--from", "1")
    assert code == 0, err
    assert chain["status"] == "done" and [t["shot"] for t in chain["takes"]] == [1, 2, 3]
    assert {t["status"] for t in chain["takes"]} == {"succeeded"}
    shots = list(Shot.objects.order_by("position").select_related("take"))
    assert [s.take.public_id for s in shots] == [t["take"] for t in chain["takes"]]  # chosen as they finished
    assert shots[1].take.input_links.get().slot == "image"
    assert (shots[2].take.task, shots[2].take.input_links.get().slot) == ("video_extension", "first_clip")
    code, again, err = run("storyboard", *gen, "--from", "3")  # a second run makes a second take of shot 3
    assert code == 0 and [t["shot"] for t in again["takes"]] == [3], err
    code, film, err = run(
        "storyboard", "export", "--workspace", "acme", f"--storyboard={board['id']}", "--json"
    )
    assert code == 0 and film["status"] == "succeeded", err
    export = Export.objects.get()
    with av.open(export.file.path) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height, stream.average_rate) == (320, 180, 16)
    lengths = [s.take.result_duration for s in shots]
    assert frames == sum(round(length * 16) for length in lengths)
