"""Changing prompt templates. Views check access (``get_membership``) before calling these."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from studio.prompts import selectors
from studio.prompts.builder import BUILTIN_TEMPLATES, clean_parts
from studio.prompts.models import PromptTemplate

NAME_MAX = 100
DESCRIPTION_MAX = 300
NEGATIVE_MAX = 2000


def save_template(
    *, workspace, user, name: str, parts: dict, description: str = "", negative: str = ""
) -> PromptTemplate:
    """A new workspace template from the builder's current parts. Names are unique per workspace (ignoring
    case) and may not repeat a built-in's, so the "start from a template" list never shows two alike."""
    name = " ".join((name or "").split())
    description = " ".join((description or "").split())
    negative = (negative or "").strip()
    parts = clean_parts(parts)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the template a name."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"Keep the name to {NAME_MAX} characters (it has {len(name)})."]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"Keep the description to {DESCRIPTION_MAX} characters."]
    if len(negative) > NEGATIVE_MAX:
        errors["negative"] = [f"Keep the negative prompt to {NEGATIVE_MAX} characters."]
    if not parts:
        errors["parts"] = ["Write at least one part of the prompt before saving it as a template."]
    with transaction.atomic():
        if "name" not in errors:
            taken = selectors.name_taken(workspace, name)
            if taken is not None and taken.workspace_id is None:
                errors["name"] = [f"“{taken.name}” is a built-in template. Choose another name."]
            elif taken is not None:
                errors["name"] = [
                    f"This workspace already has a template called “{taken.name}”. Choose another name, "
                    "or delete the old one first."
                ]
        if errors:
            raise ValidationError(errors)
        return PromptTemplate.objects.create(
            workspace=workspace,
            name=name,
            description=description,
            parts=parts,
            negative=negative,
            created_by=user,
        )


def delete_template(*, template: PromptTemplate) -> None:
    if template.workspace_id is None:
        raise ValidationError("Built-in templates can't be deleted.")
    template.delete()


def sync_builtin_templates() -> int:
    """Create or update the built-in templates (workspace NULL) from ``BUILTIN_TEMPLATES``, by name."""
    for spec in BUILTIN_TEMPLATES:
        PromptTemplate.objects.update_or_create(
            workspace=None,
            name=spec["name"],
            defaults={
                "description": spec["description"],
                "parts": dict(spec["parts"]),
                "negative": spec.get("negative", ""),
            },
        )
    return len(BUILTIN_TEMPLATES)
