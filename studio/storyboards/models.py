"""A storyboard: one project's ordered shots, each with its chosen take, stitched into exported films.

This app depends on generations, never the other way: a take is a ``Take`` row here linking a shot to a
Generation, and Generation knows nothing of shots.
"""

from django.conf import settings
from django.db import models

from studio.ids import new_public_id

# The storyboard's texts a shot inherits where its own builder part is empty (prompt part -> field).
INHERITED_PARTS = {"subject": "subject", "style": "look", "lighting": "light"}


def export_path(instance: "Export", filename: str) -> str:
    return f"storyboards/{instance.workspace_id}/{instance.public_id}/{filename}"


class Storyboard(models.Model):
    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="storyboards"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="storyboards")
    name = models.CharField(max_length=100)
    subject = models.TextField(blank=True, help_text="Inherited by every shot whose subject is empty.")
    look = models.TextField(blank=True, help_text="Inherited by every shot whose style is empty.")
    light = models.TextField(blank=True, help_text="Inherited by every shot whose lighting is empty.")
    export_width = models.PositiveIntegerField(default=1280)
    export_height = models.PositiveIntegerField(default=720)
    export_fps = models.PositiveSmallIntegerField(default=16)
    crossfade = models.FloatField(default=0.0, help_text="Seconds of crossfade between shots (0: cuts).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="storyboard_project_recent")]

    def __str__(self) -> str:
        return self.name

    @property
    def export_size(self) -> str:
        return f"{self.export_width}x{self.export_height}"


class Shot(models.Model):
    class Continuity(models.TextChoices):
        LAST_FRAME = "last_frame", "Start from the previous shot's last frame"
        EXTENSION = "extension", "Extend the previous clip (VACE)"
        REFERENCE_SHEET = "reference_sheet", "A contact sheet of the shots so far as reference (VACE)"
        NONE = "none", "None"

    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)
    storyboard = models.ForeignKey(Storyboard, on_delete=models.CASCADE, related_name="shots")
    position = models.PositiveIntegerField()  # 1-based, no gaps (services keep them so)
    parts = models.JSONField(default=dict, blank=True)  # the prompt builder's parts
    negative = models.TextField(blank=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    # What is asked of the model, in the form of Generation.recipe (studio.generations.recipe.Recipe.asked).
    recipe = models.JSONField(default=dict, blank=True)
    continuity = models.CharField(max_length=16, choices=Continuity.choices, default=Continuity.NONE)
    take = models.ForeignKey(
        "generations.Generation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    in_point = models.FloatField(default=0.0)  # seconds into the take
    out_point = models.FloatField(null=True, blank=True)  # seconds into the take; None: its end
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["storyboard", "position"]
        constraints = [
            models.UniqueConstraint(fields=["storyboard", "position"], name="one_shot_per_position"),
            models.CheckConstraint(condition=models.Q(in_point__gte=0), name="shot_in_point_not_negative"),
            models.CheckConstraint(
                condition=models.Q(out_point__isnull=True) | models.Q(out_point__gt=models.F("in_point")),
                name="shot_out_after_in",
            ),
        ]

    def __str__(self) -> str:
        return f"shot {self.position} of {self.storyboard}"

    def prompt_parts(self) -> dict[str, str]:
        """The shot's parts, with the storyboard's subject, look and light where its own are empty."""
        parts = {k: str(v) for k, v in (self.parts or {}).items() if str(v).strip()}
        for part, field in INHERITED_PARTS.items():
            inherited = getattr(self.storyboard, field).strip()
            if inherited and not parts.get(part):
                parts[part] = inherited
        return parts


class Take(models.Model):
    """A generation made for a shot. One generation is a take of at most one shot."""

    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="takes")
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="storyboard_take"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"take {self.generation_id} of {self.shot}"


class Export(models.Model):
    """One stitched film of a storyboard: made by a job, kept in storage with the recipe of every shot."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Stitching"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    storyboard = models.ForeignKey(Storyboard, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # 0-100
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.PositiveSmallIntegerField()
    crossfade = models.FloatField(default=0.0)
    # Every shot as it went into the film: position, take, in/out, provider, model, parts and recipe.
    recipe = models.JSONField(default=list, blank=True)
    file = models.FileField(upload_to=export_path, max_length=300, blank=True)
    duration = models.FloatField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # While running: each progress write pushes this forward, so a worker killed mid-stitch leaves an
    # export that can be claimed again (a redelivered message resumes it) and is shown as stopped.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.public_id} of {self.storyboard} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def is_stalled(self) -> bool:
        from django.utils import timezone

        return self.status == self.Status.RUNNING and (
            self.lease_until is None or self.lease_until < timezone.now()
        )

    def download_name(self) -> str:
        stem = "".join(c if c.isalnum() else "-" for c in self.storyboard.name[:40]).strip("-") or "film"
        return f"{stem}-{self.public_id[:6]}.mp4"


class Chain(models.Model):
    """ "Generate from here": the shots from ``start`` on, made in order, each from its predecessor's chosen
    take. ``advance`` (services) moves it on when a step's take finishes; a failure stops it where it is."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Stopped"
        CANCELLED = "cancelled", "Cancelled"

    storyboard = models.ForeignKey(Storyboard, on_delete=models.CASCADE, related_name="chains")
    start = models.PositiveIntegerField()  # the first shot's position when it began
    shots = models.JSONField(default=list)  # the shots' primary keys, in the order they are made
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    estimate = models.DecimalField(max_digits=10, decimal_places=2, default=0)  # dollars, the whole chain
    failed_shot = models.ForeignKey(Shot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One chain runs at a time on a storyboard: two would pay for the same shots.
            models.UniqueConstraint(
                fields=["storyboard"], condition=models.Q(status="running"), name="one_running_chain"
            )
        ]

    def __str__(self) -> str:
        return f"chain of {self.storyboard} from shot {self.start} ({self.status})"


class ChainStep(models.Model):
    """One shot's take made by a chain: created once (unique), so a shot is never paid for twice."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="steps")
    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="+")
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["chain", "shot"], name="one_step_per_shot")]

    def __str__(self) -> str:
        return f"step of {self.chain} for {self.shot}"
