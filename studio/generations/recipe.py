"""A job as the person asked for it: the one carrier between the form (or the CLI) and the vendor call.

The job form and the ``generate`` command each make one ``Recipe``; ``services.create_generation`` takes
it, validates it against the catalog and keeps it with the generation (the prompt in its Prompt row, the
inputs as GenerationInput rows, the asked settings in ``Generation.recipe``). Remix and run again read it
back with ``Recipe.of(generation)``. What was *asked* is kept, not what the catalog resolved it to: a
remix that changes the first frame of a job that followed the input's shape follows the new one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.assets.models import Asset
    from studio.generations.models import Generation

# What Generation.recipe holds; the prompt and the inputs live in their own rows.
ASKED = ("task", "size", "resolution", "duration", "seed", "params")


@dataclass(frozen=True)
class Recipe:
    provider: str
    model: str
    task: str | None = None
    prompt: str = ""  # the final text; empty means "compose it from the parts"
    parts: Mapping[str, str] = field(default_factory=dict)
    negative: str = ""
    size: str | None = None  # None: the model's default, or the input's shape where the model follows it
    resolution: str | None = None
    duration: int | str | None = None
    seed: int | str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, list[Asset]] = field(default_factory=dict)  # catalog slot -> assets, in order
    as_is: tuple[str, ...] = ()  # image slots sent uncropped by choice (catalog.JobRequest.as_is)

    @property
    def key(self) -> str:
        """The model as the job form names it: ``provider:model``."""
        return f"{self.provider}:{self.model}"

    def replace(self, **changes: Any) -> Recipe:
        return dataclasses.replace(self, **changes)

    def asked(self) -> dict[str, Any]:
        """The settings to keep with the generation (JSON)."""
        return {
            "task": self.task or None,
            "size": self.size or None,
            "resolution": self.resolution or None,
            "duration": self.duration,
            "seed": self.seed,
            "params": dict(self.params),
        } | ({"as_is": list(self.as_is)} if self.as_is else {})

    @classmethod
    def of(cls, generation: Generation) -> Recipe:
        """The recipe a generation was made from: what was asked, its prompt and every input."""
        asked = generation.recipe or {  # rows made before recipes were kept: what the catalog resolved
            "task": generation.task,
            "size": generation.size or None,
            "resolution": generation.resolution or None,
            "duration": generation.duration,
            "seed": generation.seed,
            "params": generation.params,
        }
        inputs: dict[str, list[Asset]] = {}
        for link in generation.input_links.select_related("asset").order_by("slot", "position"):
            inputs.setdefault(link.slot, []).append(link.asset)
        prompt = generation.prompt
        return cls(
            provider=generation.provider,
            model=generation.model,
            prompt=prompt.text,
            parts=dict(prompt.parts or {}),
            negative=prompt.negative,
            inputs=inputs,
            **{name: asked.get(name) for name in ASKED if name != "params"},
            params=dict(asked.get("params") or {}),
            as_is=tuple(str(s) for s in asked.get("as_is") or ()),
        )
