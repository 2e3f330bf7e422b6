from django.conf import settings
from django.db import models

from studio.ids import new_public_id


def asset_path(instance: "Asset", filename: str) -> str:
    return f"assets/{instance.workspace_id}/{instance.public_id}/{filename}"


class Asset(models.Model):
    """An uploaded image, video, mask or audio file. Every figure here was measured on the server."""

    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"
        AUDIO = "audio"

    public_id = models.CharField(max_length=22, unique=True, default=new_public_id, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="assets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What this was made from: a crop's image, a painted mask's video. Kept while this one is recent, as
    # the person may come back to crop or paint again (studio.assets.cleanup).
    derived_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    file = models.FileField(upload_to=asset_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=16)
    content_type = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frames = models.PositiveIntegerField(null=True, blank=True)
    has_alpha = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)
    codec = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64)
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "sha256"])]

    def __str__(self) -> str:
        return self.original_name or self.public_id


def describe_asset(asset: Asset) -> str:
    """A kept file in a few words: "1280x720 · 3.0 s · 16 fps" (what the server measured)."""
    bits = []
    if asset.width and asset.height:
        bits.append(f"{asset.width}x{asset.height}")
    if asset.duration:
        bits.append(f"{asset.duration:.1f} s")
    if asset.kind == Asset.Kind.VIDEO and asset.fps:
        bits.append(f"{asset.fps:g} fps")
    return " · ".join(bits)
