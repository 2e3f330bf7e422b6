"""Storyboards from the command line: create one, add shots (with a take), export the film.

    manage.py storyboard create --workspace SLUG --name NAME [--project NAME] [--size WxH] [--fps N] ...
    manage.py storyboard add-shot --workspace SLUG --storyboard ID --provider P --model M --prompt TEXT ...
    manage.py storyboard generate --workspace SLUG --storyboard ID (--shot N | --from N) [--wait]
    manage.py storyboard export --workspace SLUG --storyboard ID

Validated by the same services as the web pages. ``generate`` queues one take of a shot (with --wait it
drives it here, as ``generate --wait`` does), or with --from the shots from N on in order and prints what ``generate --json`` prints; ``export`` runs the
job in this process. With --json each prints one object. Give ids as ``--storyboard=ID`` (an id may begin with "-"). Exit codes: 0 done (or queued); 1 the take or the
export failed; 2 bad input (nothing was saved).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from studio.generations import engine
from studio.generations.management.commands.generate import _param
from studio.generations.management.commands.generate import as_json as generation_json
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.projects.models import Project
from studio.storyboards import chains, continuity, exports, selectors, services
from studio.storyboards.models import Export, Shot, Storyboard
from studio.workspaces.models import Membership, Workspace

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"--size takes WxH, e.g. 1280x720, not {text!r}")
    return int(width), int(height)


def storyboard_json(sb: Storyboard) -> dict:
    return {
        "id": sb.public_id,
        "name": sb.name,
        "project": sb.project.name,
        "subject": sb.subject,
        "look": sb.look,
        "light": sb.light,
        "size": sb.export_size,
        "fps": sb.export_fps,
        "crossfade": sb.crossfade,
        "shots": sb.shots.count(),
    }


def shot_json(shot: Shot) -> dict:
    return {
        "id": shot.public_id,
        "storyboard": shot.storyboard.public_id,
        "position": shot.position,
        "provider": shot.provider,
        "model": shot.model,
        "parts": shot.parts,
        "recipe": shot.recipe,
        "continuity": shot.continuity,
        "take": shot.take.public_id if shot.take_id else None,
        "in_point": shot.in_point,
        "out_point": shot.out_point,
    }


def export_json(export: Export) -> dict:
    try:
        video = str(Path(export.file.path).resolve()) if export.file else None
    except NotImplementedError:  # remote storage: the name it is kept under
        video = export.file.name
    return {
        "id": export.public_id,
        "storyboard": export.storyboard.public_id,
        "status": export.status,
        "progress": export.progress,
        "video": video,
        "width": export.width,
        "height": export.height,
        "fps": export.fps,
        "crossfade": export.crossfade,
        "duration": export.duration,
        "has_audio": export.has_audio if export.file else None,
        "shots": len(export.recipe),
        "error": export.error_message or None,
    }


class Command(BaseCommand):
    help = "Create storyboards, add shots and export the stitched film."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a new storyboard in a project")
        add = sub.add_parser("add-shot", help="a shot at the end (or --position), optionally with its take")
        generate = sub.add_parser("generate", help="one take of a shot, recorded as its take")
        export = sub.add_parser("export", help="stitch the chosen takes into one film, here")
        for p in (create, add, generate, export):
            p.add_argument("--workspace", required=True)
            p.add_argument("--json", action="store_true", dest="as_json")
        create.add_argument("--name", required=True)
        create.add_argument("--project", default="Command line")
        create.add_argument("--subject", default="")
        create.add_argument("--look", default="")
        create.add_argument("--light", default="")
        create.add_argument("--size", default="1280x720", help="the film's WxH")
        create.add_argument("--fps", type=int, default=16)
        create.add_argument("--crossfade", type=float, default=0.0, help="seconds between shots")
        for p in (add, generate, export):
            p.add_argument("--storyboard", required=True, help="the storyboard's id (as --storyboard=ID)")
        which = generate.add_mutually_exclusive_group(required=True)
        which.add_argument("--shot", type=int, help="the shot's position (1 is the first)")
        which.add_argument(
            "--from",
            dest="from_shot",
            type=int,
            help="generate from here: this shot and every one after it, in order, each from the take before it",
        )
        generate.add_argument("--wait", action="store_true", help="drive the job to its end here")
        generate.add_argument("--timeout", type=float, default=None)
        generate.add_argument(
            "--choose", action="store_true", help="with --wait: make a finished take the chosen one"
        )
        add.add_argument("--provider", required=True)
        add.add_argument("--model", required=True)
        add.add_argument("--prompt", default="", help="the shot's action (the builder's main part)")
        add.add_argument("--negative", default="")
        add.add_argument("--task")
        add.add_argument("--size")
        add.add_argument("--resolution")
        add.add_argument("--duration", type=int)
        add.add_argument("--seed", type=int)
        add.add_argument("--param", action="append", default=[], help="KEY=VALUE (repeatable)")
        add.add_argument("--continuity", default="none", choices=Shot.Continuity.values)
        add.add_argument("--position", type=int)
        add.add_argument(
            "--take", help="id of a finished generation of the project, as --take=ID: the shot's chosen take"
        )
        add.add_argument("--in", dest="in_point", type=float, default=0.0, help="seconds into the take")
        add.add_argument("--out", dest="out_point", type=float, help="seconds into the take")

    def fail(self, message: str) -> None:
        self.stderr.write(f"error: {message}")
        sys.exit(EXIT_INVALID)

    def emit(self, data: dict, line: str, as_json: bool) -> None:
        self.stdout.write(json.dumps(data) if as_json else line)

    def handle(self, **o):
        workspace = Workspace.objects.filter(slug=o["workspace"]).first()
        if workspace is None:
            self.fail(
                f"no workspace {o['workspace']!r} (create it: manage.py createworkspace {o['workspace']})"
            )
        owner = Membership.objects.filter(workspace=workspace, role="owner").select_related("user").first()
        user = owner.user if owner else None
        try:
            code = getattr(self, "do_" + o["action"].replace("-", "_"))(workspace, user, o)
        except ValidationError as exc:
            lines = (
                [f"{f}: {m}" if f != "__all__" else m for f, msgs in exc.message_dict.items() for m in msgs]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            self.stderr.write("\n".join(f"error: {line}" for line in lines))
            sys.exit(EXIT_INVALID)
        sys.exit(code)

    def _storyboard(self, workspace, public_id: str) -> Storyboard:
        sb = selectors.storyboard_of(workspace=workspace, public_id=public_id)
        if sb is None:
            self.fail(f"no storyboard {public_id!r} in {workspace.slug}")
        return sb

    def do_create(self, workspace, user, o) -> int:
        try:
            width, height = _size(o["size"])
        except ValueError as exc:
            self.fail(str(exc))
        with transaction.atomic():
            project, _ = Project.objects.get_or_create(
                workspace=workspace, name=o["project"], defaults={"created_by": user}
            )
            sb = services.create_storyboard(
                workspace=workspace,
                project=project,
                user=user,
                name=o["name"],
                subject=o["subject"],
                look=o["look"],
                light=o["light"],
                export_width=width,
                export_height=height,
                export_fps=o["fps"],
                crossfade=o["crossfade"],
            )
        self.emit(storyboard_json(sb), f"{sb.public_id} {sb.name}", o["as_json"])
        return EXIT_OK

    def do_add_shot(self, workspace, user, o) -> int:
        sb = self._storyboard(workspace, o["storyboard"])
        try:
            params = dict(_param(p) for p in o["param"])
        except ValueError as exc:
            self.fail(str(exc))
        take = None
        if o["take"]:
            take = Generation.objects.filter(workspace=workspace, public_id=o["take"]).first()
            if take is None:
                self.fail(f"no generation {o['take']!r} in {workspace.slug}")
        recipe = Recipe(
            provider=o["provider"],
            model=o["model"],
            task=o["task"],
            parts={"action": o["prompt"]} if o["prompt"] else {},
            negative=o["negative"],
            size=o["size"],
            resolution=o["resolution"],
            duration=o["duration"],
            seed=o["seed"],
            params=params,
        )
        with transaction.atomic():
            shot = services.add_shot(
                workspace=workspace,
                storyboard=sb,
                recipe=recipe,
                continuity=o["continuity"],
                position=o["position"],
            )
            if take is not None:
                services.add_take(workspace=workspace, shot=shot, generation=take)
                services.choose_take(workspace=workspace, shot=shot, generation=take)
            if take is not None or o["in_point"] or o["out_point"] is not None:
                services.set_trim(
                    workspace=workspace, shot=shot, in_point=o["in_point"], out_point=o["out_point"]
                )
        shot.refresh_from_db()
        self.emit(shot_json(shot), f"{shot.public_id} shot {shot.position} of {sb.public_id}", o["as_json"])
        return EXIT_OK

    def do_generate(self, workspace, user, o) -> int:
        sb = self._storyboard(workspace, o["storyboard"])
        position = o["shot"] if o["shot"] is not None else o["from_shot"]
        shot = sb.shots.filter(position=position).first()
        if shot is None:
            self.fail(f"{sb.public_id} has no shot {position} (it has {sb.shots.count()})")
        if o["from_shot"] is not None:
            return self.generate_from(workspace, user, sb, shot, o)
        generation = continuity.generate_shot(workspace=workspace, shot=shot, user=user)
        for warning in generation.warnings:
            self.stderr.write(f"note: {warning}")
        if o["wait"]:
            generation = engine.drive(generation.pk, timeout=o["timeout"])
        generation.refresh_from_db()
        done = generation.status == Generation.Status.SUCCEEDED
        if done and o["choose"]:
            services.choose_take(workspace=workspace, shot=shot, generation=generation)
        self.emit(generation_json(generation), f"{generation.public_id} {generation.status}", o["as_json"])
        return EXIT_OK if done or (not o["wait"] and generation.is_active) else EXIT_FAILED

    def generate_from(self, workspace, user, sb, shot, o) -> int:
        """The chain from ``shot`` on; with --wait each take is driven here and the chain moved on after it
        (a finished take is chosen where its shot has none). Prints the chain and its takes."""
        from studio.storyboards.models import Chain

        chain = chains.start_chain(workspace=workspace, storyboard=sb, shot=shot, user=user)
        self.stderr.write(f"note: {len(chain.shots)} shots, about ${chain.estimate} in all")
        while o["wait"] and chain.status == Chain.Status.RUNNING:
            step = chain.steps.order_by("-id").select_related("generation").first()
            if step is not None and step.generation and step.generation.is_active:
                engine.drive(step.generation_id, timeout=o["timeout"])
            if chains.advance_chain(chain.pk) == Chain.Status.RUNNING:
                latest = chain.steps.order_by("-id").select_related("generation").first()
                if latest == step and latest.generation.is_active:
                    break  # driving did not finish it (timeout): leave the chain to the beat
            chain.refresh_from_db()
        chain.refresh_from_db()
        steps = list(chain.steps.select_related("shot", "generation"))
        data = {
            "storyboard": sb.public_id,
            "from": chain.start,
            "status": chain.status,
            "estimate": str(chain.estimate),
            "message": chain.message,
            "takes": [
                {"shot": s.shot.position, "take": s.generation.public_id, "status": s.generation.status}
                for s in steps
                if s.generation
            ],
        }
        self.emit(data, f"from shot {chain.start}: {chain.status} {chain.message}".rstrip(), o["as_json"])
        if chain.status == Chain.Status.FAILED and not o["as_json"]:
            self.stderr.write(f"error: {chain.message}")
        ok = chain.status == Chain.Status.DONE or (not o["wait"] and chain.status == Chain.Status.RUNNING)
        return EXIT_OK if ok else EXIT_FAILED

    def do_export(self, workspace, user, o) -> int:
        sb = self._storyboard(workspace, o["storyboard"])
        export = services.start_export(workspace=workspace, storyboard=sb, user=user, nudge=False)
        export = exports.run_export(export.pk)
        data = export_json(export)
        self.emit(
            data, f"{export.public_id} {export.status} {data['video'] or export.error_message}", o["as_json"]
        )
        if export.status != Export.Status.SUCCEEDED and not o["as_json"]:
            self.stderr.write(f"error: {export.error_message}")
        return EXIT_OK if export.status == Export.Status.SUCCEEDED else EXIT_FAILED
