"""Make one video from the command line, validated exactly as the web form does.

Exit codes: 0 succeeded (or queued, without --wait); 1 failed, canceled or unconfirmed; 2 bad input
(nothing was saved or submitted).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from studio.assets.services import SLOT_KINDS, create_asset
from studio.generations import engine, services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.projects.models import Project
from studio.providers.registry import provider_names
from studio.storage import where
from studio.workspaces.models import Membership, Workspace

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _param(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--param takes KEY=VALUE, not {text!r}")
    if value.startswith(("[", "{")):
        try:
            return key, json.loads(value)
        except ValueError:
            pass
    return key, value


def slots_for(task: str | None, options: dict) -> dict[str, list[str]]:
    """Which catalog slot each path option fills, by task."""
    extension = task == "video_extension"
    mapping = {
        "image": "first_frame" if extension else "image",
        "last_frame": "last_frame" if extension else "last_image",
        "video": "video",
        "mask": "mask_image",
        "mask_video": "mask_video",
        "ref": "ref_images",
        "first_clip": "first_clip",
        "last_clip": "last_clip",
        "audio": "audio",
    }
    found: dict[str, list[str]] = {}
    for option, slot in mapping.items():
        value = options.get(option)
        if value:
            found[slot] = list(value) if isinstance(value, list) else [value]
    return found


def as_json(g: Generation) -> dict:
    return {
        "id": g.public_id,
        "status": g.status,
        "provider": g.provider,
        "model": g.model,
        "task": g.task,
        "external_id": g.external_id or None,
        # A path on local media; on S3 (no local file) a short-lived signed link.
        "video": where(g.video) if g.video else None,
        "poster": where(g.poster) if g.poster else None,
        "width": g.width,
        "height": g.height,
        "duration": g.result_duration,
        "fps": g.fps,
        "has_audio": g.has_audio if g.video else None,
        "warnings": g.warnings,
        "error": {"kind": g.error_kind, "code": g.error_code, "message": g.error_message}
        if g.error_message and g.status != Generation.Status.SUCCEEDED
        else None,
    }


class Command(BaseCommand):
    help = "Create a generation (and with --wait, drive it to its end in this process)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True)
        parser.add_argument("--provider", required=True, choices=provider_names())
        parser.add_argument("--model", required=True)
        parser.add_argument("--prompt", required=True)
        parser.add_argument("--negative", default="")
        parser.add_argument(
            "--camera", default="", help="the prompt builder's camera part (push in, pan left, ...)"
        )
        parser.add_argument("--project", default="Command line")
        parser.add_argument("--task", help="t2v, i2v, flf2v or a VACE function (inferred when clear)")
        parser.add_argument("--function", help="a VACE function (same as --task)")
        parser.add_argument("--image", help="first frame")
        parser.add_argument("--last-frame", dest="last_frame")
        parser.add_argument("--video")
        parser.add_argument("--mask", help="mask image (white = edit)")
        parser.add_argument("--mask-video", dest="mask_video")
        parser.add_argument(
            "--mask-frame", dest="mask_frame", type=int, help="1-based frame the mask was painted on"
        )
        parser.add_argument("--ref", action="append", default=[], help="reference image (repeatable)")
        parser.add_argument("--first-clip", dest="first_clip")
        parser.add_argument("--last-clip", dest="last_clip")
        parser.add_argument("--audio")
        parser.add_argument("--size", help="WxH, e.g. 1280x720")
        parser.add_argument("--resolution", help="e.g. 720P")
        parser.add_argument("--duration", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument(
            "--param", action="append", default=[], help="KEY=VALUE (repeatable; JSON for lists)"
        )
        parser.add_argument("--wait", action="store_true", help="drive the job to its end here")
        parser.add_argument(
            "--timeout", type=float, default=None, help="with --wait: give up waiting after this many seconds"
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def fail(self, message: str) -> None:
        self.stderr.write(f"error: {message}")
        sys.exit(EXIT_INVALID)

    def handle(self, **o):
        workspace = Workspace.objects.filter(slug=o["workspace"]).first()
        if workspace is None:
            self.fail(
                f"no workspace {o['workspace']!r} (create it: manage.py createworkspace {o['workspace']})"
            )
        owner = Membership.objects.filter(workspace=workspace, role="owner").select_related("user").first()
        user = owner.user if owner else None
        try:
            params = dict(_param(p) for p in o["param"])
        except ValueError as exc:
            self.fail(str(exc))
        if o["mask_frame"] is not None:
            params["mask_frame_id"] = o["mask_frame"]
        task = o["task"] or o["function"]
        paths = slots_for(task, o)
        for slot, files in paths.items():
            for f in files:
                if not Path(f).is_file():
                    self.fail(f"{slot}: no such file {f}")
        try:
            with transaction.atomic():
                project, _ = Project.objects.get_or_create(
                    workspace=workspace, name=o["project"], defaults={"created_by": user}
                )
                inputs = {
                    slot: [
                        create_asset(workspace=workspace, user=user, source=f, expect=SLOT_KINDS[slot])
                        for f in files
                    ]
                    for slot, files in paths.items()
                }
                recipe = Recipe(
                    provider=o["provider"],
                    model=o["model"],
                    task=task,
                    prompt=o["prompt"],
                    parts={"camera": o["camera"]} if o["camera"] else {},
                    negative=o["negative"],
                    size=o["size"],
                    resolution=o["resolution"],
                    duration=o["duration"],
                    seed=o["seed"],
                    params=params,
                    inputs=inputs,
                )
                generation = services.create_generation(
                    workspace=workspace, project=project, user=user, recipe=recipe
                )
        except ValidationError as exc:
            lines = (
                [
                    f"{field}: {m}" if field != "__all__" else m
                    for field, msgs in exc.message_dict.items()
                    for m in msgs
                ]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            self.stderr.write("\n".join(f"error: {line}" for line in lines))
            sys.exit(EXIT_INVALID)
        for warning in generation.warnings:
            self.stderr.write(f"note: {warning}")
        if o["wait"]:
            generation = engine.drive(generation.pk, timeout=o["timeout"])
        generation.refresh_from_db()
        if o["as_json"]:
            self.stdout.write(json.dumps(as_json(generation)))
        else:
            self.stdout.write(
                f"{generation.public_id} {generation.status}"
                + (f" {where(generation.video)}" if generation.video else "")
            )
            if generation.error_message and generation.status != Generation.Status.SUCCEEDED:
                self.stderr.write(
                    f"{generation.error_kind} {generation.error_code}: {generation.error_message}"
                )
        ok = generation.status == Generation.Status.SUCCEEDED or (not o["wait"] and generation.is_active)
        sys.exit(EXIT_OK if ok else EXIT_FAILED)
