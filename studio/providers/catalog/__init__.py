"""Every model the studio can drive, as data, plus the one function that checks a job against it.

Facts come from the vendors' published API pages. Where each fact comes from is kept in ``source`` (on
Param, MediaSlot and MediaLimits) and in ``notes``, never in ``help``, which creators read in the job form:
``[000]`` is the Wan prompt guide, ``[001]`` SiliconFlow's video API, ``[002]`` DashScope's image to video,
``[003]`` jiekou.ai's text to video, ``[004]`` DashScope's wan2.1-vace-plus; ``†`` the vendor's public docs
beyond those pages, ``‡`` a third-party republication of the vendor's parameters (likely, not confirmed). Where no source
states a limit the field is ``None`` and nothing is checked: the studio does not invent vendor limits.

Each vendor package writes its models in ``<vendor>/models.py`` on the shared schema; this package holds the
schema (``schema``), sizes and formats (``units``), the checks (``coerce``, ``media``, ``validation``) and
the table of vendors the catalogue is gathered from (``vendors``). Import from here, not from the modules.

Pure Python (no Django): forms, the ``generate``/``catalog`` commands, the engine and the vendor adapters
all read it. Callers turn :class:`CatalogError` into Django's ``ValidationError``.
"""

from __future__ import annotations

from typing import Any

# Two helpers used elsewhere (the image picker checks a first frame; the tests read a choice) though not API.
from .media import _check_media_item as _check_media_item
from .schema import (
    MEDIA_KINDS,
    PARAM_TYPES,
    TASK_LABELS,
    TASKS,
    CatalogError,
    CleanJob,
    JobRequest,
    MediaInfo,
    MediaLimits,
    MediaSlot,
    Model,
    Param,
)
from .units import (
    ASPECT_TOLERANCE,
    COMMON_ASPECTS,
    FPS_TOLERANCE,
    MB,
    aspect_label,
    closest_aspect,
    normalise_format,
    parse_size,
)
from .units import _show_choice as _show_choice
from .validation import validate
from .vendors import VENDORS, as_data, get_model, iter_models, models_by_provider, provider_labels

__all__ = [
    "ASPECT_TOLERANCE",
    "CATALOG",
    "COMMON_ASPECTS",
    "FPS_TOLERANCE",
    "MB",
    "MEDIA_KINDS",
    "PARAM_TYPES",
    "PROVIDER_LABELS",
    "TASKS",
    "TASK_LABELS",
    "VENDORS",
    "CatalogError",
    "CleanJob",
    "JobRequest",
    "MediaInfo",
    "MediaLimits",
    "MediaSlot",
    "Model",
    "Param",
    "as_data",
    "aspect_label",
    "closest_aspect",
    "get_model",
    "iter_models",
    "models_by_provider",
    "normalise_format",
    "parse_size",
    "provider_labels",
    "validate",
]


def __getattr__(name: str) -> Any:
    # CATALOG (provider -> model id -> Model) and PROVIDER_LABELS are gathered from the vendor packages on
    # first use; see vendors.py for why not at import.
    if name == "CATALOG":
        return models_by_provider()
    if name == "PROVIDER_LABELS":
        return provider_labels()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
