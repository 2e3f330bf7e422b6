import re

from django.conf import settings
from django.db import models

from studio.ids import new_public_id
from studio.providers.base import ErrorKind


def result_path(instance: "Generation", filename: str) -> str:
    return f"generations/{instance.workspace_id}/{instance.public_id}/{filename}"


class Generation(models.Model):
    """One video job. ``status`` moves only through studio.generations.states.transition()."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        SUBMITTED = "submitted", "Waiting at provider"
        RUNNING = "running", "Generating"
        DOWNLOADING = "downloading", "Saving result"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        SUBMIT_UNKNOWN = "submit_unknown", "Submit unconfirmed"

    # The groups every part of the studio reads, kept here once.
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)
    AT_VENDOR = (Status.SUBMITTED, Status.RUNNING, Status.DOWNLOADING)  # the vendor has it (or we fetch it)
    IN_FLIGHT = (Status.QUEUED, Status.SUBMITTING, *AT_VENDOR)  # the engine still moves it on its own
    SETTLED = (*FINISHED, Status.SUBMIT_UNKNOWN)  # nothing more happens without a person

    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="generations"
    )
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="generations")
    prompt = models.ForeignKey("prompts.Prompt", on_delete=models.PROTECT, related_name="generations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    task = models.CharField(max_length=32)
    size = models.CharField(max_length=16, blank=True)
    resolution = models.CharField(max_length=8, blank=True)
    duration = models.PositiveSmallIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # What the person asked for (studio.generations.recipe.Recipe.asked): remix and run again start here,
    # so "follow the input's shape" stays a choice instead of becoming the size it once resolved to.
    recipe = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    inputs = models.ManyToManyField("assets.Asset", through="GenerationInput", related_name="generations")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    external_id = models.CharField(max_length=128, blank=True)
    trace_id = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # submit attempts (claims)
    polls = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(null=True, blank=True)
    queue_position = models.IntegerField(null=True, blank=True)
    remote_url = models.URLField(max_length=2000, blank=True)  # the vendor's result, until we hold a copy

    error_kind = models.CharField(
        max_length=10, choices=[(k.value, k.name.replace("_", " ").title()) for k in ErrorKind], blank=True
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    error_detail = models.JSONField(null=True, blank=True)

    video = models.FileField(upload_to=result_path, max_length=300, blank=True)
    poster = models.FileField(upload_to=result_path, max_length=300, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    result_duration = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frames = models.PositiveIntegerField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    result_seed = models.BigIntegerField(null=True, blank=True)
    actual_prompt = models.TextField(blank=True)
    # What the vendor reported about the finished job: DashScope's usage and prompts, SiliconFlow's timings
    # and seed, jiekou's seed (studio.providers.base.Progress.report).
    vendor_report = models.JSONField(default=dict, blank=True)
    cost_estimate = models.DecimalField(
        max_digits=10, decimal_places=2, default=0
    )  # dollars: estimated at creation, the vendor's figures once reported

    remix_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="remixes"
    )
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    provider_done_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_poll_at"], name="gen_due"),
            models.Index(fields=["workspace", "-created_at"], name="gen_ws_recent"),
            models.Index(fields=["project", "-created_at"], name="gen_project_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.public_id} ({self.status})"

    def download_name(self, ext: str) -> str:
        """The file name a download is offered under: project, the prompt's first words, the id."""
        words = re.sub(r"[^A-Za-z0-9]+", "-", self.prompt.text[:40]).strip("-").lower() or "video"
        return f"{self.project.name[:30]}-{words}-{self.public_id[:6]}.{ext}".replace(" ", "-")

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def is_active(self) -> bool:
        return self.status in self.IN_FLIGHT


class GenerationInput(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="input_links")
    asset = models.ForeignKey("assets.Asset", on_delete=models.PROTECT, related_name="+")
    slot = models.CharField(max_length=32)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["slot", "position"]

    def __str__(self) -> str:
        return f"{self.slot}[{self.position}]"


class Rating(models.Model):
    """One person's mark on a generation: a favourite star and/or 1-5 stars."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="ratings")
    favorite = models.BooleanField(default=False)
    stars = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "generation"], name="one_rating_per_user"),
            models.CheckConstraint(
                condition=models.Q(stars__isnull=True) | models.Q(stars__gte=1, stars__lte=5),
                name="stars_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.generation_id}: {'★' if self.favorite else ''}{self.stars or ''}"
