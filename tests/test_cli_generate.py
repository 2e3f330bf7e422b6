"""`manage.py generate`: every local model and task end to end, and bad input refused with exit 2."""

import io
import json

import pytest
from django.core.management import call_command

from studio.generations.models import Generation
from studio.workspaces.models import Workspace
from tests.media import make_image, make_mask, make_video, probe

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("generate", "--workspace", "acme", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    text = out.getvalue().strip()
    return code, (json.loads(text) if text.startswith("{") else None), err.getvalue()


@pytest.fixture
def files(tmp_path):
    return {
        "wide": make_image(tmp_path / "wide.png", 640, 360),
        "wide2": make_image(tmp_path / "wide2.jpg", 1280, 720, fmt="JPEG", color=(200, 60, 60)),
        "four_three": make_image(tmp_path / "43.png", 640, 480),
        "video": make_video(tmp_path / "clip.mp4", 320, 192, frames=32, fps=16),
        "mask": make_mask(tmp_path / "mask.png", 320, 192, (40, 40, 160, 120)),
        "bad_mask": make_mask(tmp_path / "bad_mask.png", 300, 200, (10, 10, 50, 50)),
        "text": tmp_path / "notes.txt",
    }


CASES = {
    "t2v": ("preview-t2v", []),
    "i2v": ("preview-i2v", ["--image", "wide", "--camera", "push in"]),
    "flf2v": ("preview-i2v", ["--task", "flf2v", "--image", "wide", "--last-frame", "wide2"]),
    "image_reference": (
        "preview-vace",
        [
            "--function",
            "image_reference",
            "--ref",
            "wide",
            "--ref",
            "wide2",
            "--param",
            'obj_or_bg=["obj","bg"]',
        ],
    ),
    "video_repainting": (
        "preview-vace",
        ["--function", "video_repainting", "--video", "video", "--param", "control_condition=depth"],
    ),
    "video_edit": (
        "preview-vace",
        ["--function", "video_edit", "--video", "video", "--mask", "mask", "--mask-frame", "10"],
    ),
    "video_extension": (
        "preview-vace",
        ["--function", "video_extension", "--image", "wide", "--last-frame", "wide2"],
    ),
    "video_outpainting": (
        "preview-vace",
        [
            "--function",
            "video_outpainting",
            "--video",
            "video",
            "--param",
            "left_scale=1.5",
            "--param",
            "right_scale=1.5",
        ],
    ),
}


@pytest.mark.parametrize("task", sorted(CASES))
def test_every_local_task_makes_a_playable_video_of_exactly_the_asked_size(world, files, task):
    model, extra = CASES[task]
    extra = [str(files[a]) if a in files else a for a in extra]
    code, result, err = run(
        "--provider",
        "local",
        "--model",
        model,
        "--prompt",
        f"a {task} test",
        "--size",
        "832x480",
        "--duration",
        "2",
        "--wait",
        "--json",
        *extra,
    )
    assert code == 0, (err, result)
    assert result["status"] == "succeeded" and result["task"] == task and result["error"] is None
    facts = probe(result["video"])
    assert facts["codec"] == "h264" and (facts["width"], facts["height"]) == (832, 480)
    assert abs(facts["frames"] - 32) <= 1 and result["duration"] == pytest.approx(2.0, abs=1 / 16)
    assert result["poster"].endswith(".jpg")


def test_audio_is_carried_when_asked(world, files):
    code, result, _ = run(
        "--provider",
        "local",
        "--model",
        "preview-i2v",
        "--prompt",
        "drums",
        "--image",
        str(files["wide"]),
        "--param",
        "audio=true",
        "--duration",
        "1",
        "--wait",
        "--json",
    )
    assert code == 0 and result["has_audio"] is True


BAD = {
    "a size the model does not offer": (["--model", "preview-t2v", "--size", "800x600"], "size"),
    "a prompt over the limit": (["--model", "preview-t2v", "--prompt", "x" * 2100], "prompt"),
    "a mask of another size than its video": (
        ["--model", "preview-vace", "--function", "video_edit", "--video", "video", "--mask", "bad_mask"],
        "mask",
    ),
    "a mask frame past the last frame": (
        [
            "--model",
            "preview-vace",
            "--function",
            "video_edit",
            "--video",
            "video",
            "--mask",
            "mask",
            "--mask-frame",
            "99",
        ],
        "mask_frame_id",
    ),
    "an unreadable file": (["--model", "preview-i2v", "--image", "text"], "not an image"),
    "a missing file": (["--model", "preview-i2v", "--image", "/nonexistent.png"], "no such file"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_a_message_and_saves_nothing(world, files, case):
    files["text"].write_text("not a picture")
    args, needle = BAD[case]
    args = [str(files[a]) if a in files else a for a in args]
    if "--prompt" not in args:
        args += ["--prompt", "a test"]
    code, result, err = run("--provider", "local", *args, "--wait", "--json")
    assert code == 2 and result is None
    assert needle.lower() in err.lower(), err
    assert not Generation.objects.exists()


def test_siliconflow_i2v_refuses_an_image_of_none_of_the_three_aspects(world, files):
    code, _, err = run(
        "--provider",
        "siliconflow",
        "--model",
        "Wan-AI/Wan2.2-I2V-A14B",
        "--prompt",
        "waves",
        "--image",
        str(files["four_three"]),
    )
    assert code == 2 and "4:3" in err and "16:9" in err
    assert not Generation.objects.exists()


def test_without_wait_the_job_is_queued_and_exit_0(world):
    code, result, _ = run(
        "--provider",
        "local",
        "--model",
        "preview-t2v",
        "--prompt",
        "rain",
        "--size",
        "832x480",
        "--duration",
        "1",
        "--json",
    )
    assert code == 0 and result["status"] == "queued" and result["video"] is None


def test_unknown_workspace_is_exit_2(db):
    Workspace.objects.all().delete()
    code, _, err = run("--provider", "local", "--model", "preview-t2v", "--prompt", "x")
    assert code == 2 and "no workspace" in err
