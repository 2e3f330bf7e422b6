"""What a job is likely to cost, for the monthly spend estimate and the workspace budget.

This is an estimate, not a bill: the vendor pages we build on publish no prices, so the defaults below
are round figures in US dollars from the vendors' public price lists (check yours), and an admin sets
the real ones with ``STUDIO_PRICES``:

    STUDIO_PRICES="siliconflow:Wan-AI/Wan2.2-T2V-A14B=0.29/video,dashscope:wan2.1-vace-plus=0.10/s"

A price is per video or per second of video. The offline ``local`` renderer costs nothing.

A job's estimate (:func:`estimate_job`, and :func:`estimate_for` for a job still being written) is that
price for the seconds of video the job *outputs* (VACE's functions too: repainting, editing and
outpainting keep the input video's length, at most the model's longest), times the factors below for the
picture's size, fast mode and sound. The job form shows the server's figure (``generations:preview``),
so the browser never prices a job itself.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Price:
    amount: Decimal
    per: str  # "video" | "s"

    def of(self, seconds: float | None) -> Decimal:
        return self.amount if self.per == "video" else self.amount * Decimal(str(seconds or 5))

    def __str__(self) -> str:
        return f"${self.amount}/{self.per}"


DEFAULTS: dict[tuple[str, str], Price] = {
    ("siliconflow", "Wan-AI/Wan2.2-T2V-A14B"): Price(Decimal("0.29"), "video"),
    ("siliconflow", "Wan-AI/Wan2.2-I2V-A14B"): Price(Decimal("0.29"), "video"),
    ("dashscope", "wan2.5-i2v-preview"): Price(Decimal("0.10"), "s"),
    ("dashscope", "wan2.2-i2v-flash"): Price(Decimal("0.03"), "s"),
    ("dashscope", "wan2.2-i2v-plus"): Price(Decimal("0.10"), "s"),
    ("dashscope", "wanx2.1-i2v-plus"): Price(Decimal("0.10"), "s"),
    ("dashscope", "wanx2.1-i2v-turbo"): Price(Decimal("0.04"), "s"),
    ("dashscope", "wan2.1-vace-plus"): Price(Decimal("0.10"), "s"),
    ("jiekou", "wan2.1-t2v"): Price(Decimal("0.30"), "video"),
}
#: a paid model missing from the table is estimated at this, so a budget still holds
UNKNOWN = Price(Decimal("0.50"), "video")
_ENTRY = re.compile(r"^(?P<provider>[a-z0-9_-]+):(?P<model>[^=]+)=(?P<amount>[0-9.]+)/(?P<per>video|s)$")


# ---------------------------------------------------------------------------------------------------------
# Factors on a table price. ESTIMATES, not vendor figures: the pages we build on state none. The table's
# prices are for a 720P-class picture, normal mode and the model's usual sound; a vendor that prices by the
# picture gets the resolution factor, the others (SiliconFlow: one price a video) none.

#: providers whose price follows the picture's resolution, and by how much (estimates)
RESOLUTION_FACTORS: dict[str, dict[str, Decimal]] = {
    "dashscope": {"480P": Decimal("0.5"), "720P": Decimal("1"), "1080P": Decimal("1.5")},
    "jiekou": {"480P": Decimal("0.5"), "720P": Decimal("1")},
}
#: jiekou's fast_mode "may lower quality and price" [003]; how much is not stated (estimate)
FAST_MODE_FACTOR = Decimal("0.6")
#: wan2.5 with generated sound, against silent (estimate: priced alike; change it here if yours differ)
AUDIO_FACTOR = Decimal("1")
#: the VACE functions whose output keeps the input video's length
KEEPS_INPUT_LENGTH = ("video_repainting", "video_edit", "video_outpainting")
#: a job whose length nothing states is counted as this many seconds
DEFAULT_SECONDS = 5


def resolution_class(resolution: str | None, size: str | None) -> str:
    """The 480P/720P/1080P class a job's picture falls in: its resolution, else its size's pixel count."""
    if resolution:
        return str(resolution).upper()
    w, _, h = str(size or "").lower().partition("x")
    if not (w.isdigit() and h.isdigit()):
        return "720P"
    pixels = int(w) * int(h)
    return "480P" if pixels <= 480 * 854 else "720P" if pixels <= 1280 * 720 else "1080P"


@dataclass(frozen=True)
class Estimate:
    """One job's likely cost, with what it was worked out from (shown beside Generate)."""

    amount: Decimal  # dollars, to the cent
    price: Price
    seconds: float  # whole seconds asked, or the length the vendor reported
    factors: tuple[tuple[str, Decimal], ...] = ()  # (what, factor), only those other than 1
    free: bool = False

    @property
    def basis(self) -> str:
        """ "5 s at $0.10/s, x1.5 for 1080P" """
        head = f"{self.seconds:g} s at {self.price}" if self.price.per == "s" else f"{self.price}"
        tail = "".join(f", x{f.normalize()} for {what}" for what, f in self.factors)
        return head + tail


def output_seconds(
    *, model, task: str | None, duration: int | None, input_seconds: float | None = None
) -> int:
    """The seconds of video a job outputs: what a VACE repaint, edit or outpaint keeps of its input video
    (at most the model's longest), else the duration asked, else the model's default."""
    longest = max(model.durations) if model.durations else None
    if task in KEEPS_INPUT_LENGTH and input_seconds:
        seconds = math.ceil(float(input_seconds) - 0.05)  # a frame's slack, as the catalogue allows
        return max(1, min(seconds, longest) if longest else seconds)
    return int(duration or model.default_duration or DEFAULT_SECONDS)


def estimate_for(
    provider: str,
    model_id: str,
    *,
    task: str | None = None,
    duration: int | None = None,
    resolution: str | None = None,
    size: str | None = None,
    params: dict | None = None,
    input_seconds: float | None = None,
    seconds: float | None = None,
) -> Estimate:
    """The estimate from a job's settings (model defaults fill what is not given), valid or not yet;
    ``seconds``, when given, is the output's length as the vendor reported it."""
    from studio.providers.catalog import get_model

    model = get_model(provider, model_id)
    params = params or {}
    if seconds is None:
        seconds = output_seconds(model=model, task=task, duration=duration, input_seconds=input_seconds)
    price = price_of(provider, model_id)
    if provider == "local" or not model.paid:
        return Estimate(Decimal(0), price, seconds, free=True)
    factors = []
    by_resolution = RESOLUTION_FACTORS.get(provider)
    if by_resolution:
        picture = resolution_class(resolution or model.default_resolution, size or model.default_size)
        factor = by_resolution.get(picture, Decimal(1))
        if factor != 1:
            factors.append((picture, factor))
    if params.get("fast_mode") is True and FAST_MODE_FACTOR != 1:
        factors.append(("fast mode", FAST_MODE_FACTOR))
    if model.audio and params.get("audio", True) is True and AUDIO_FACTOR != 1:
        factors.append(("sound", AUDIO_FACTOR))
    amount = price.of(seconds)
    for _, factor in factors:
        amount *= factor
    return Estimate(amount.quantize(CENT), price, seconds, tuple(factors))


def estimate_job(clean) -> Estimate:
    """The estimate of a validated job (a catalog ``CleanJob``): what it is stored with and budgeted at."""
    video = clean.media.get("video")
    video = video[0] if isinstance(video, list) and video else video
    return estimate_for(
        clean.provider,
        clean.model,
        task=clean.task,
        duration=clean.duration,
        resolution=clean.resolution,
        size=clean.size,
        params=clean.params,
        input_seconds=getattr(video, "duration", None),
    )


def parse(entries: list[str]) -> dict[tuple[str, str], Price]:
    """``provider:model=amount/video`` or ``.../s`` entries, refused whole with the bad one named."""
    prices = {}
    for entry in entries:
        match = _ENTRY.match(entry.strip())
        try:
            amount = Decimal(match["amount"]) if match else None
        except InvalidOperation:
            amount = None
        if match is None or amount is None:
            raise ImproperlyConfigured(
                f"STUDIO_PRICES: {entry!r} is not provider:model=AMOUNT/video or provider:model=AMOUNT/s."
            )
        prices[(match["provider"], match["model"])] = Price(amount, match["per"])
    return prices


@functools.cache
def _table(entries: tuple[str, ...]) -> dict[tuple[str, str], Price]:
    return {**DEFAULTS, **parse(list(entries))}


def price_of(provider: str, model: str) -> Price:
    if provider == "local":
        return Price(Decimal(0), "video")
    return _table(tuple(settings.STUDIO_PRICES)).get((provider, model), UNKNOWN)


def estimate(provider: str, model: str, seconds: int | None) -> Decimal:
    """The likely cost of one job, in dollars, to the cent."""
    return price_of(provider, model).of(seconds).quantize(CENT)


def price_list() -> list[tuple[str, str, Price]]:
    """(provider, model, price) for every paid model in the catalog, for the owner's page."""
    from studio.providers.catalog import CATALOG

    return [
        (provider, model_id, price_of(provider, model_id))
        for provider, models in CATALOG.items()
        if provider != "local"
        for model_id in models
    ]


def factor_notes() -> list[str]:
    """The factors above in words, for the owner's page: "DashScope: x0.5 at 480P, x1.5 at 1080P"."""
    from studio.providers.catalog import PROVIDER_LABELS

    notes = []
    for provider, by_resolution in RESOLUTION_FACTORS.items():
        shown = [f"x{f.normalize()} at {res}" for res, f in by_resolution.items() if f != 1]
        if shown:
            notes.append(f"{PROVIDER_LABELS.get(provider, provider)}: {', '.join(shown)}")
    if FAST_MODE_FACTOR != 1:
        notes.append(f"fast mode: x{FAST_MODE_FACTOR.normalize()}")
    if AUDIO_FACTOR != 1:
        notes.append(f"generated sound: x{AUDIO_FACTOR.normalize()}")
    return notes


def reported_seconds(report: dict) -> float | None:
    """The video's length as the vendor reported it, if it did: DashScope's ``usage`` has
    ``video_duration`` (0 in one of its examples, with the length in ``duration``) [002]."""
    usage = report.get("usage") if isinstance(report, dict) else None
    if not isinstance(usage, dict):
        return None
    for key in ("video_duration", "duration"):
        value = usage.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def reported_cost(generation, report: dict) -> Decimal | None:
    """The cost of a finished job from the vendor's own figures (its reported length, with the same factors
    as its estimate), or None when it reported none, so the estimate made before sending stands."""
    seconds = reported_seconds(report)
    if seconds is None:
        return None
    return estimate_for(
        generation.provider,
        generation.model,
        task=generation.task,
        resolution=generation.resolution or None,
        size=generation.size or None,
        params=generation.params,
        seconds=seconds,
    ).amount
