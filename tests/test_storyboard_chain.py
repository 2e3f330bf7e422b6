"""Generate from here: shots made in order from their predecessors' chosen takes, each paid for once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File

from studio.generations.models import Generation
from studio.storyboards import chains, services
from studio.storyboards.models import Chain, ChainStep, Shot
from tests.storyboard_helpers import local_recipe, render_clip


@pytest.fixture
def board(world):
    return services.create_storyboard(
        workspace=world.workspace, project=world.project, user=world.owner.user, name="Chain"
    )


def add(world, board, prompt, continuity="none", recipe=None):
    return services.add_shot(
        workspace=world.workspace,
        storyboard=board,
        recipe=recipe or local_recipe(prompt),
        continuity=continuity,
    )


def finish(generation: Generation, clip, *, ok=True) -> None:
    """What the engine does when the vendor's job ends: the video saved and the status set."""
    if ok:
        with open(clip, "rb") as fh:
            generation.video.save("video.mp4", File(fh), save=False)
        generation.status, generation.result_duration, generation.fps = Generation.Status.SUCCEEDED, 1.0, 16
    else:
        generation.status, generation.error_message = Generation.Status.FAILED, "The vendor said no."
    generation.save()


def test_shots_are_made_in_order_each_from_the_take_chosen_before_it(world, board, tmp_path):
    clip = render_clip(tmp_path / "c.mp4")
    first = add(world, board, "a")
    second = add(world, board, "b", "last_frame", local_recipe("b").replace(model="preview-i2v", task=None))
    chain = chains.start_chain(
        workspace=world.workspace, storyboard=board, shot=first, user=world.editor.user
    )
    assert chain.status == "running" and chain.estimate == Decimal("0")
    (step,) = ChainStep.objects.filter(chain=chain)
    assert step.shot == first and step.generation.status == "queued"
    for _ in range(3):  # the beat, again and again, while the take is made: nothing more is sent
        assert chains.advance_chain(chain.pk) == "running"
    assert Generation.objects.count() == 1
    finish(step.generation, clip)
    assert chains.advance_chain(chain.pk) == "running"
    first.refresh_from_db()
    assert first.take == step.generation  # the first finished take is chosen when none is
    second_step = ChainStep.objects.get(chain=chain, shot=second)
    assert second_step.generation.task == "i2v"
    assert second_step.generation.input_links.get().slot == "image"
    finish(second_step.generation, clip)
    assert chains.advance_chains() == 1
    chain.refresh_from_db()
    assert chain.status == "done" and Generation.objects.count() == 2
    second.refresh_from_db()
    assert second.take == second_step.generation


def test_a_failed_take_stops_the_chain_at_its_shot(world, board, tmp_path):
    first = add(world, board, "a")
    add(world, board, "b")
    chain = chains.start_chain(workspace=world.workspace, storyboard=board, shot=first, user=None)
    finish(chain.steps.get().generation, None, ok=False)
    assert chains.advance_chain(chain.pk) == "failed"
    chain.refresh_from_db()
    assert chain.failed_shot == first
    assert chain.message == "Shot 1: its take failed: The vendor said no."
    assert Generation.objects.count() == 1  # shot 2 never sent


def test_only_one_chain_runs_and_a_model_that_cannot_take_its_continuity_is_refused_first(world, board):
    first = add(world, board, "a")
    add(world, board, "b", "extension")
    with pytest.raises(ValidationError, match="cannot take a clip to extend"):
        chains.start_chain(workspace=world.workspace, storyboard=board, shot=first, user=None)
    assert not Chain.objects.exists() and not Generation.objects.exists()
    board.shots.filter(position=2).update(continuity=Shot.Continuity.NONE)
    chains.start_chain(workspace=world.workspace, storyboard=board, shot=first, user=None)
    with pytest.raises(ValidationError, match="already being generated"):
        chains.start_chain(workspace=world.workspace, storyboard=board, shot=first, user=None)
    assert Generation.objects.count() == 1


def test_the_whole_chains_estimate_is_checked_against_the_budget_before_it_starts(world, board):
    from studio.generations.recipe import Recipe

    vace = Recipe(provider="dashscope", model="wan2.1-vace-plus", parts={"action": "x"}, duration=5)
    first = add(world, board, "a", recipe=vace)
    add(world, board, "b", recipe=vace)
    assert chains.chain_estimate(board, 1) == Decimal("1.00")  # 2 x 5 s at $0.10/s
    world.workspace.monthly_budget = Decimal("0.60")
    world.workspace.save()
    with pytest.raises(ValidationError, match=r"These 2 shots \(about \$1.00 in all\)"):
        chains.start_chain(workspace=world.workspace, storyboard=board, shot=first, user=None)
    assert not Chain.objects.exists() and not Generation.objects.exists()


def test_a_step_refused_when_its_turn_comes_stops_the_chain_there(world, board, tmp_path):
    first = add(world, board, "a")
    second = add(world, board, "b", "last_frame")  # preview-t2v takes no image: refused when it is sent
    chain = chains.start_chain(workspace=world.workspace, storyboard=board, shot=first, user=None)
    finish(chain.steps.get().generation, render_clip(tmp_path / "c.mp4"))
    assert chains.advance_chain(chain.pk) == "failed"
    chain.refresh_from_db()
    assert chain.failed_shot == second and chain.message.startswith("Shot 2: ")
    assert Generation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_advancing_one_chain_at_once_send_the_next_shot_once(world, tmp_path):
    """The beat on two workers: both see shot 1 finished; the chain's lock lets one make shot 2's step,
    the other then finds it made."""
    import threading

    from django.db import connection

    sb = services.create_storyboard(
        workspace=world.workspace, project=world.project, user=world.owner.user, name="Race"
    )
    first = add(world, sb, "a")
    second = add(world, sb, "b")
    chain = chains.start_chain(workspace=world.workspace, storyboard=sb, shot=first, user=None)
    finish(chain.steps.get().generation, render_clip(tmp_path / "c.mp4"))
    barrier, errors = threading.Barrier(4), []

    def beat() -> None:
        try:
            barrier.wait()
            chains.advance_chain(chain.pk)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert ChainStep.objects.filter(chain=chain, shot=second).count() == 1
    assert Generation.objects.count() == 2
