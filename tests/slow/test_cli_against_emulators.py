"""The issue's own words: `generate --provider P --model M --wait --json`, with P_BASE_URL pointed at a
protocol server and a key in P_API_KEY, ends succeeded with the video stored, for every cloud model
and every VACE function. Run as real processes against the loopback emulators."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.providers import catalog
from studio.providers.emulators import start_emulator
from tests.media import make_image, make_mask, make_video, probe
from tests.processes import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
KEY = "emulated-key-1234"
ENV_NAMES = {"siliconflow": "SILICONFLOW", "dashscope": "DASHSCOPE", "jiekou": "JIEKOU"}


@pytest.fixture(scope="module")
def emulators():
    handles = {vendor: start_emulator(vendor, api_key=KEY, task_seconds=1.0) for vendor in ENV_NAMES}
    yield handles
    for handle in handles.values():
        handle.stop()


@pytest.fixture
def media(tmp_path):
    return {
        "wide": make_image(tmp_path / "wide.png", 1280, 720),
        "wide2": make_image(tmp_path / "wide2.png", 1280, 720, color=(200, 80, 40)),
        "video": make_video(tmp_path / "clip.mp4", 640, 360, frames=48, fps=16),
        "mask": make_mask(tmp_path / "mask.png", 640, 360, (100, 100, 300, 250)),
    }


def cases() -> list[tuple[str, str, str, list[str]]]:
    found = []
    for provider in ENV_NAMES:
        for model in catalog.CATALOG[provider].values():
            for task in model.tasks:
                found.append((provider, model.id, task))
    return found


ARGS = {
    "t2v": [],
    "i2v": ["--image", "wide"],
    "image_reference": ["--ref", "wide", "--ref", "wide2", "--param", 'obj_or_bg=["obj","bg"]'],
    "video_repainting": ["--video", "video", "--param", "control_condition=depth"],
    "video_edit": ["--video", "video", "--mask", "mask", "--mask-frame", "5"],
    "video_extension": ["--image", "wide", "--last-frame", "wide2"],
    "video_outpainting": ["--video", "video", "--param", "left_scale=1.2", "--param", "right_scale=1.2"],
}


@pytest.mark.parametrize(("provider", "model", "task"), cases(), ids=lambda v: str(v))
def test_generate_against_the_protocol_servers(
    provider, model, task, emulators, media, proc_env, live_server, world
):
    env = {**proc_env, "STUDIO_FETCH_ALLOW_PRIVATE": "true", "STUDIO_PUBLIC_BASE_URL": live_server.url}
    for vendor, handle in emulators.items():
        env[f"{ENV_NAMES[vendor]}_BASE_URL"] = handle.base_url
        env[f"{ENV_NAMES[vendor]}_API_KEY"] = KEY
    size = ["--size", "1280x720"] if provider in ("siliconflow",) and task == "t2v" else []
    args = [str(media[a]) if a in media else a for a in ARGS[task]]
    before = emulators[provider].submit_count
    command = [
        sys.executable,
        "manage.py",
        "generate",
        "--workspace",
        world.workspace.slug,
        "--provider",
        provider,
        "--model",
        model,
        "--task",
        task,
        "--prompt",
        f"{task} of a lighthouse at dusk",
        *size,
        *args,
        "--wait",
        "--json",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["error"] is None
    assert Path(result["video"]).is_file() and probe(result["video"])["codec"] == "h264"
    assert emulators[provider].submit_count == before + 1  # exactly one paid submit
