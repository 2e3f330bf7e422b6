"""The guided prompt builder: per-model limits, parts in and out, and the context the
``prompts/builder.html#prompt-builder`` partials render from (the words themselves are in vocabulary.py).

The structure follows the vendor's prompt guide: one paragraph, in time order, concrete about action,
appearance, surroundings, camera, light and colour, and what changes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from studio.inputs import small_json
from studio.prompts.counting import advised_words
from studio.prompts.models import PART_NAMES, PARTS, compose
from studio.prompts.vocabulary import BUILTIN_TEMPLATES, CHIPS, HINTS, NEGATIVE_CHIPS
from studio.providers import catalog

__all__ = [
    "BUILTIN_TEMPLATES",
    "CHIPS",
    "HINTS",
    "NEGATIVE_CHIPS",
    "PLACEHOLDER",
    "all_limits",
    "builder_context",
    "clean_parts",
    "limits_for",
    "parts_from_post",
    "placeholders",
    "template_choices",
]

# A blank the user fills in, as written in the built-in templates: ``{product}``, ``{backdrop colour}``.
PLACEHOLDER = re.compile(r"\{[a-z][a-z0-9 _-]{0,30}\}")

# ---------------------------------------------------------------------------------------------------------
# Limits


def limits_for(provider: str, model: str) -> dict[str, Any]:
    """The builder's limits for one catalog model (``None`` where no source states one).

    ``max_chars`` is a hard limit on the composed prompt (the studio refuses beyond it), ``advised_words`` the
    prompt guide's advice, for every model (a warning only; words counted by ``studio.prompts.counting``), ``negative_max_chars`` the negative prompt's hard limit;
    ``negative_allowed`` is false for models that take no negative prompt at all.
    """
    m = catalog.get_model(provider, model)
    return {
        "max_chars": m.prompt_max_chars,
        "advised_words": advised_words(m.advised_max_words),  # the guide's advice, for every model
        "negative_max_chars": m.negative_max_chars,
        "negative_allowed": m.negative_prompt,
        "prompt_required": m.prompt_required,
        "label": m.label,
        "provider_label": catalog.PROVIDER_LABELS[m.provider],
    }


def all_limits() -> dict[str, dict[str, Any]]:
    """Every model's limits keyed like the job form's model choices: ``"provider:model id"``."""
    return {m.key: limits_for(m.provider, m.id) for m in catalog.iter_models()}


def model_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Catalog models grouped by provider, for the builder page's own model select."""
    return [
        (catalog.PROVIDER_LABELS[p], [(m.key, m.label) for m in models.values()])
        for p, models in catalog.CATALOG.items()
        if models
    ]


# ---------------------------------------------------------------------------------------------------------
# Parts in and out


def clean_parts(value: Any) -> dict[str, str]:
    """Known parts only, as strings, without empty ones (whitespace inside is left for ``compose``)."""
    if not isinstance(value, dict):
        return {}
    parts = {}
    for name in PART_NAMES:
        text = value.get(name)
        if isinstance(text, (str, int, float)) and not isinstance(text, bool):
            text = str(text)
            if text.strip():
                parts[name] = text[:2000]
    return parts


def parts_from_post(data) -> dict[str, str]:
    """The parts a builder sent: ``parts_json`` (kept in sync by the script), else the ``part_<name>``
    textareas (a browser without JavaScript)."""
    raw = (data.get("parts_json") or "").strip()
    if raw:
        try:
            return clean_parts(small_json(raw, max_chars=40_000, max_depth=2))
        except ValueError:  # damaged or oversized (JSONDecodeError is one too): the textareas still say it
            pass
    return clean_parts({name: data.get(f"part_{name}", "") for name in PART_NAMES})


def placeholders(text: str) -> list[str]:
    """The template blanks still in ``text``, in order, without repeats."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


# ---------------------------------------------------------------------------------------------------------
# What the partial renders from


def template_choices(workspace) -> dict[str, list[dict[str, Any]]]:
    """The "start from a template" select: this workspace's templates and the built-ins, each with the URL
    its parts load from."""
    from django.urls import reverse

    from studio.prompts import selectors

    def item(t) -> dict[str, Any]:
        url = reverse("prompts:template_parts", kwargs={"slug": workspace.slug, "template_id": t.pk})
        return {"id": t.pk, "name": t.name, "description": t.description, "url": url}

    found = selectors.templates_for_builder(workspace)
    return {"own": [item(t) for t in found["own"]], "builtin": [item(t) for t in found["builtin"]]}


def builder_context(
    membership,
    *,
    parts: dict[str, str] | None = None,
    prompt: str = "",
    negative: str = "",
    errors: dict[str, list[str]] | None = None,
    limits: bool = True,
) -> dict[str, Any]:
    """Everything ``{% include "prompts/builder.html#prompt-builder" %}`` needs, as ``builder``.

    ``parts``/``prompt``/``negative`` are what the form was last submitted with (or a template's), so a form
    shown again after an error keeps the user's work. A ``prompt`` that differs from the parts' composition
    was edited by hand: the builder opens with "edit the final text" on.
    """
    from django.urls import reverse

    parts = clean_parts(parts or {})
    composed = compose(parts)
    prompt = (prompt or "").strip()
    slug = membership.workspace.slug
    errors = errors or {}
    fields = [
        {
            "name": name,
            "label": label,
            "hint": HINTS[name],
            "value": parts.get(name, ""),
            "chips": CHIPS[name],
        }
        for name, label in PARTS
    ]
    return {
        "fields": fields,
        "parts_json": json.dumps(parts, ensure_ascii=False),
        "prompt": prompt or composed,
        "manual": bool(prompt) and prompt != composed,
        "negative": negative or "",
        "negative_chips": NEGATIVE_CHIPS,
        # A page that sends the catalog to the browser anyway (the job form) passes limits=False: the
        # builder then reads each model's limits from it.
        "limits": all_limits() if limits else None,
        "templates": template_choices(membership.workspace),
        "can_write": membership.can_write,
        "save_url": reverse("prompts:template_save", kwargs={"slug": slug}),
        "templates_url": reverse("prompts:templates", kwargs={"slug": slug}),
        "prompt_errors": errors.get("prompt", []),
        "negative_errors": errors.get("negative", []) + errors.get("negative_prompt", []),
    }
