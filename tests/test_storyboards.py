"""Storyboards: shots in order, takes, trims, and every service refusing another workspace's objects."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from studio.generations.models import Generation
from studio.storyboards import continuity, selectors, services
from studio.storyboards.models import Shot, Storyboard
from tests.factories import make_generation
from tests.storyboard_helpers import local_recipe


@pytest.fixture
def board(world) -> Storyboard:
    return services.create_storyboard(
        workspace=world.workspace,
        project=world.project,
        user=world.owner.user,
        name="Launch film",
        subject="A red kite",
        look="Real-life footage",
        light="Golden hour",
    )


def add(world, board, prompt, **kwargs) -> Shot:
    return services.add_shot(
        workspace=world.workspace, storyboard=board, recipe=local_recipe(prompt), **kwargs
    )


def order(board) -> list[str]:
    return [s.parts["action"] for s in selectors.shots_of(storyboard=board)]


def test_shots_are_added_at_the_end_or_at_a_position(world, board):
    add(world, board, "one")
    add(world, board, "three")
    add(world, board, "two", position=2)
    add(world, board, "zero", position=1)
    assert order(board) == ["zero", "one", "two", "three"]
    assert [s.position for s in selectors.shots_of(storyboard=board)] == [1, 2, 3, 4]


def test_moving_a_shot_closes_up_the_others(world, board):
    shots = [add(world, board, name) for name in ("a", "b", "c", "d")]
    services.move_shot(workspace=world.workspace, shot=shots[0], position=3)
    assert order(board) == ["b", "c", "a", "d"]
    services.move_shot(workspace=world.workspace, shot=shots[3], position=1)
    assert order(board) == ["d", "b", "c", "a"]
    with pytest.raises(ValidationError):
        services.move_shot(workspace=world.workspace, shot=shots[0], position=5)


def test_deleting_a_shot_renumbers(world, board):
    shots = [add(world, board, name) for name in ("a", "b", "c")]
    services.delete_shot(workspace=world.workspace, shot=shots[1])
    assert [(s.parts["action"], s.position) for s in selectors.shots_of(storyboard=board)] == [
        ("a", 1),
        ("c", 2),
    ]


def test_a_shot_keeps_its_recipe_as_a_generation_does_and_inherits_the_storyboards_texts(world, board):
    shot = add(world, board, "the kite dives", continuity=Shot.Continuity.LAST_FRAME)
    assert (shot.provider, shot.model, shot.continuity) == ("local", "preview-t2v", "last_frame")
    assert shot.recipe == local_recipe().asked()
    shot.parts = {"action": "the kite dives", "lighting": "Blue hour"}
    assert shot.prompt_parts() == {
        "action": "the kite dives",
        "lighting": "Blue hour",  # its own wins
        "subject": "A red kite",
        "style": "Real-life footage",
    }


def test_an_unknown_model_or_continuity_is_refused(world, board):
    with pytest.raises(ValidationError, match="preview-nothing"):
        services.add_shot(
            workspace=world.workspace,
            storyboard=board,
            recipe=local_recipe().replace(model="preview-nothing"),
        )
    with pytest.raises(ValidationError, match="continuity"):
        add(world, board, "x", continuity="telepathy")
    assert not board.shots.exists()


def test_a_take_is_chosen_among_the_shots_finished_generations(world, board):
    shot = add(world, board, "a")
    running = make_generation(world.workspace, project=world.project, status=Generation.Status.RUNNING)
    services.add_take(workspace=world.workspace, shot=shot, generation=running)
    with pytest.raises(ValidationError, match="finished"):
        services.choose_take(workspace=world.workspace, shot=shot, generation=running)
    stranger = make_generation(world.workspace, project=world.project, status=Generation.Status.SUCCEEDED)
    with pytest.raises(ValidationError, match="not a take"):
        services.choose_take(workspace=world.workspace, shot=shot, generation=stranger)
    other = add(world, board, "b")
    with pytest.raises(ValidationError, match="another shot"):
        services.add_take(workspace=world.workspace, shot=other, generation=running)


def test_trim_points_must_fit_the_take(world, board, tmp_path):
    from tests.storyboard_helpers import finished_take, render_clip

    shot = add(world, board, "a")
    take = finished_take(
        world.workspace, world.project, render_clip(tmp_path / "c.mp4", duration=2.0), duration=2.0
    )
    services.add_take(workspace=world.workspace, shot=shot, generation=take)
    services.choose_take(workspace=world.workspace, shot=shot, generation=take)
    services.set_trim(workspace=world.workspace, shot=shot, in_point=0.5, out_point=1.5)
    shot.refresh_from_db()
    assert (shot.in_point, shot.out_point) == (0.5, 1.5)
    for in_point, out_point in ((1.0, 0.5), (-1, None), (0, 3.0), (2.0, None)):
        with pytest.raises(ValidationError):
            services.set_trim(workspace=world.workspace, shot=shot, in_point=in_point, out_point=out_point)


def test_services_refuse_another_workspaces_objects(world, board):
    shot = add(world, board, "a")
    with pytest.raises(ValidationError):
        services.create_storyboard(
            workspace=world.workspace, project=world.other_project, user=world.owner.user, name="x"
        )
    with pytest.raises(ValidationError):
        services.add_shot(workspace=world.other_workspace, storyboard=board, recipe=local_recipe())
    with pytest.raises(ValidationError):
        services.move_shot(workspace=world.other_workspace, shot=shot, position=1)
    with pytest.raises(ValidationError):
        services.set_trim(workspace=world.other_workspace, shot=shot, in_point=0, out_point=None)
    theirs = make_generation(world.other_workspace, status=Generation.Status.SUCCEEDED)
    with pytest.raises(ValidationError):
        services.add_take(workspace=world.workspace, shot=shot, generation=theirs)
    assert selectors.storyboard_of(workspace=world.other_workspace, public_id=board.public_id) is None
    assert list(selectors.storyboards_of(workspace=world.other_workspace)) == []


def test_export_settings_are_checked(world):
    with pytest.raises(ValidationError) as caught:
        services.create_storyboard(
            workspace=world.workspace,
            project=world.project,
            user=None,
            name="x",
            export_width=1281,
            export_fps=0,
            crossfade=5,
        )
    assert set(caught.value.message_dict) == {"export_width", "export_fps", "crossfade"}


def test_generating_a_shot_starts_from_the_previous_takes_exact_last_frame(world, tmp_path):
    from PIL import Image, ImageChops

    from studio.storyboards.media import fit_to_model, last_frame
    from studio.storyboards.models import Take
    from tests.storyboard_helpers import storyboard_with_takes

    sb, (first,) = storyboard_with_takes(world, tmp_path, [{"duration": 1.0}], subject="A red kite")
    second = services.add_shot(
        workspace=world.workspace,
        storyboard=sb,
        recipe=local_recipe("the kite dives").replace(model="preview-i2v", task=None),
        continuity=Shot.Continuity.LAST_FRAME,
    )
    generation = continuity.generate_shot(workspace=world.workspace, shot=second, user=world.editor.user)
    assert (generation.provider, generation.model, generation.task, generation.status) == (
        "local",
        "preview-i2v",
        "i2v",
        "queued",
    )
    assert Take.objects.get(generation=generation).shot == second
    assert generation.prompt.parts == {"action": "the kite dives", "subject": "A red kite"}
    (link,) = generation.input_links.all()
    assert link.slot == "image"
    expected, note = fit_to_model(last_frame(first.take.video.path), provider="local", model="preview-i2v")
    with Image.open(link.asset.file.path) as kept:
        assert kept.size == expected.size
        assert ImageChops.difference(kept.convert("RGB"), expected).getbbox() is None  # pixel for pixel
    assert note and note in generation.warnings  # 320x192 was cut to the model's nearest aspect


def test_a_shot_without_a_previous_take_or_with_a_vace_continuity_is_refused(world, board):
    first = add(world, board, "a", continuity=Shot.Continuity.LAST_FRAME)
    with pytest.raises(ValidationError, match="first shot"):
        continuity.generate_shot(workspace=world.workspace, shot=first, user=None)
    second = add(world, board, "b", continuity=Shot.Continuity.LAST_FRAME)
    with pytest.raises(ValidationError, match="take for shot 1"):
        continuity.generate_shot(workspace=world.workspace, shot=second, user=None)
    third = add(world, board, "c", continuity=Shot.Continuity.EXTENSION)
    with pytest.raises(
        ValidationError, match=r"preview-t2v cannot take a clip to extend.*local:preview-vace"
    ):
        continuity.generate_shot(workspace=world.workspace, shot=third, user=None)
    fourth = add(world, board, "c", continuity=Shot.Continuity.REFERENCE_SHEET)
    with pytest.raises(ValidationError, match="cannot take reference images"):
        continuity.generate_shot(workspace=world.workspace, shot=fourth, user=None)
    assert not Generation.objects.exists()
    generation = continuity.generate_shot(workspace=world.workspace, shot=add(world, board, "d"), user=None)
    assert generation.prompt.text.startswith("A red kite")


def vace_recipe(prompt: str):
    return local_recipe(prompt).replace(model="preview-vace", task=None, duration=None)


def test_an_extension_sends_the_end_of_the_previous_take_as_vaces_first_clip(world, tmp_path):
    from studio.storyboards.media import duration_of
    from tests.storyboard_helpers import storyboard_with_takes

    sb, (first,) = storyboard_with_takes(world, tmp_path, [{"duration": 4.0, "width": 640, "height": 360}])
    services.set_trim(workspace=world.workspace, shot=first, in_point=0.0, out_point=3.5)
    second = services.add_shot(
        workspace=world.workspace, storyboard=sb, recipe=vace_recipe("on"), continuity="extension"
    )
    generation = continuity.generate_shot(workspace=world.workspace, shot=second, user=world.editor.user)
    assert (generation.model, generation.task, generation.status) == (
        "preview-vace",
        "video_extension",
        "queued",
    )
    (link,) = generation.input_links.all()
    assert link.slot == "first_clip" and link.asset.workspace == world.workspace
    assert abs(duration_of(link.asset.file.path) - 3.0) < 0.07  # 0.5..3.5 s of the 4 s take: its trimmed end
    assert any("continues the last 3.00 s of shot 1" in w for w in generation.warnings)


def test_a_reference_sheet_sends_a_contact_sheet_of_the_shots_so_far(world, tmp_path):
    from PIL import Image

    from tests.storyboard_helpers import storyboard_with_takes

    sb, _ = storyboard_with_takes(world, tmp_path, [{"duration": 1.0}, {"duration": 1.0}])
    third = services.add_shot(
        workspace=world.workspace, storyboard=sb, recipe=vace_recipe("a"), continuity="reference_sheet"
    )
    generation = continuity.generate_shot(workspace=world.workspace, shot=third, user=world.editor.user)
    assert generation.task == "image_reference"
    (link,) = generation.input_links.all()
    assert link.slot == "ref_images"
    with Image.open(link.asset.file.path) as sheet:
        assert sheet.size == (960, 576)  # 3x3 cells of 320x192, the first take's shape
    assert any("contact sheet of shots 1-2" in w for w in generation.warnings)
