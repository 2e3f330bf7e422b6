"""Where the catalogue's models come from: one ``models`` module per vendor package, listed in ``VENDORS``.

Each of those modules holds ``LABEL`` (the vendor's name as creators read it) and ``MODELS`` (its models, in
the order the studio lists them). Adding a vendor is its package plus one line here.
"""

from __future__ import annotations

import dataclasses
import importlib
from functools import cache
from typing import Any

from .schema import TASK_LABELS, TASKS, CatalogError, Model
from .units import _join_or

#: vendor name -> the module holding its LABEL and MODELS, in the order the studio lists vendors
VENDORS = {
    "local": "studio.providers.local.models",
    "siliconflow": "studio.providers.siliconflow.models",
    "dashscope": "studio.providers.dashscope.models",
    "jiekou": "studio.providers.jiekou.models",
}


@cache
def _gather() -> tuple[dict[str, dict[str, Model]], dict[str, str]]:
    # On first use, not at import: the vendors' models modules import this package's schema, so gathering
    # them while it is still being imported would go round in a circle.
    catalog: dict[str, dict[str, Model]] = {}
    labels: dict[str, str] = {}
    for name, path in VENDORS.items():
        module = importlib.import_module(path)
        labels[name] = module.LABEL
        catalog[name] = {}
        for m in module.MODELS:
            if m.provider != name:
                raise ValueError(f"{path} lists {m.key}, a model of another provider")
            catalog[name][m.id] = m
    return catalog, labels


def models_by_provider() -> dict[str, dict[str, Model]]:
    """provider -> model id -> Model (what ``catalog.CATALOG`` is)."""
    return _gather()[0]


def provider_labels() -> dict[str, str]:
    """provider -> its name as creators read it (what ``catalog.PROVIDER_LABELS`` is)."""
    return _gather()[1]


def iter_models():
    for models in models_by_provider().values():
        yield from models.values()


def get_model(provider: str, model: str) -> Model:
    """The Model, or CatalogError naming what exists. Also accepts a model's region alias."""
    p = (provider or "").strip().lower()
    mid = (model or "").strip()
    catalog = models_by_provider()
    if p not in catalog:
        raise CatalogError({"provider": [f"There is no provider {provider!r}. Choose {_join_or(catalog)}."]})
    models = catalog[p]
    if mid in models:
        return models[mid]
    for m in models.values():
        if mid in m.aliases:
            return m
    lowered = {k.lower(): v for k, v in models.items()}
    if mid.lower() in lowered:
        return lowered[mid.lower()]
    raise CatalogError(
        {"model": [f"{provider_labels()[p]} has no model {model!r}. Its models: {', '.join(models)}."]}
    )


def _model_data(m: Model) -> dict:
    data = dataclasses.asdict(m)
    data["provider_label"] = provider_labels()[m.provider]
    data["wire"] = dict(m.wire)
    data["region_ids"] = dict(m.region_ids)
    data["media_rules"] = [{"rule": r, "slots": list(s), "tasks": list(t)} for r, s, t in m.media_rules]
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if callable(value):  # a setting's own rule: named, not serialised
        return f"{value.__module__}.{value.__qualname__}"
    return value


def as_data() -> dict:
    """The whole catalogue as plain JSON types (for ``manage.py catalog --json``)."""
    return _jsonable(
        {
            "tasks": {t: TASK_LABELS[t] for t in TASKS},
            "providers": {
                p: {
                    "label": provider_labels()[p],
                    "models": {mid: _model_data(m) for mid, m in models.items()},
                }
                for p, models in models_by_provider().items()
            },
        }
    )
