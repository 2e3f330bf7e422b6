"""What a job is likely to cost, for the monthly spend estimate and the workspace budget.

This is an estimate, not a bill: the vendor pages we build on publish no prices, so the defaults below
are round figures in US dollars from the vendors' public price lists (check yours), and an admin sets
the real ones with ``STUDIO_PRICES``:

    STUDIO_PRICES="siliconflow:Wan-AI/Wan2.2-T2V-A14B=0.29/video,dashscope:wan2.1-vace-plus=0.10/s"

A price is per video or per second of video. The offline ``local`` renderer costs nothing.
"""

from __future__ import annotations

import functools
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

    def of(self, seconds: int | None) -> Decimal:
        return self.amount if self.per == "video" else self.amount * (seconds or 5)

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


def reported_cost(provider: str, model: str, report: dict) -> Decimal | None:
    """The cost of a finished job from the vendor's own figures (its reported length), or None when it
    reported none, so the estimate made before sending stands."""
    seconds = reported_seconds(report)
    if seconds is None:
        return None
    price = price_of(provider, model)
    amount = price.amount if price.per == "video" else price.amount * Decimal(str(seconds))
    return amount.quantize(CENT)
