"""The job form: one model choice from the catalog, the prompt, the inputs the models take.

The catalog decides what is valid (services.validate_job); this form only parses what the browser sent.
"""

from __future__ import annotations

import json

from django import forms

from studio.generations.recipe import Recipe
from studio.inputs import small_json
from studio.prompts.builder import limits_for, model_choices
from studio.providers import catalog


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class GenerationForm(forms.Form):
    model = forms.ChoiceField(choices=model_choices, initial="local:preview-t2v")
    task = forms.ChoiceField(
        choices=[("", "Automatic")] + [(t, catalog.TASK_LABELS.get(t, t)) for t in catalog.TASKS],
        required=False,
    )
    prompt = forms.CharField(
        required=False,  # without JavaScript the builder's parts are composed on the server
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "What happens, who, where, how the camera moves, the light…"}
        ),
        max_length=5000,
    )
    negative = forms.CharField(
        required=False, label="Negative prompt", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    size = forms.CharField(
        required=False,
        max_length=16,
        help_text="Width by height, e.g. 1280x720. Empty: the model's usual size, or the input's shape.",
    )
    resolution = forms.CharField(required=False, max_length=8, help_text="e.g. 720P")
    duration = forms.IntegerField(
        required=False, min_value=1, max_value=60, label="Length", help_text="Seconds of video."
    )
    seed = forms.IntegerField(required=False)
    params = forms.CharField(
        required=False,
        label="Extra settings (JSON)",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": '{"prompt_extend": false}'}),
    )
    image = forms.FileField(required=False, label="First frame")
    last_image = forms.FileField(required=False, label="Last frame")
    video = forms.FileField(required=False, label="Input video")
    mask_image = forms.FileField(required=False, label="Mask image")
    ref_images = MultipleFileField(required=False, label="Reference images")
    audio = forms.FileField(required=False, label="Audio")
    mask_video = forms.FileField(required=False, label="Mask video")
    first_clip = forms.FileField(required=False, label="First clip")
    last_clip = forms.FileField(required=False, label="Last clip")
    # Inputs already in the workspace, by public id: uploads kept from a refused try, a video picked and
    # a mask painted on the mask page, an image cropped by the crop helper. One field per slot.
    image_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    last_image_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    video_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    mask_image_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    ref_images_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    audio_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    mask_video_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    first_clip_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    last_clip_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    mask_frame_id = forms.IntegerField(
        required=False,
        min_value=1,
        label="Frame the mask belongs to",
        help_text="1 is the video's first frame. Painting the mask fills this in.",
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
    )
    # "1": the first frame goes uncropped, by the person's choice ("Send as is", for models that match the
    # video to the image themselves); the image input keeps it beside the image's id.
    image_as_is = forms.CharField(required=False, max_length=1, widget=forms.HiddenInput)
    remix_of = forms.CharField(required=False, max_length=22, widget=forms.HiddenInput)
    mask_type = forms.CharField(required=False, widget=forms.HiddenInput)
    expand_ratio = forms.FloatField(required=False, widget=forms.HiddenInput)
    expand_mode = forms.CharField(required=False, widget=forms.HiddenInput)

    MASK_PARAMS = ("mask_frame_id", "mask_type", "expand_ratio", "expand_mode")

    UPLOAD_SLOTS = (
        "image",
        "last_image",
        "video",
        "mask_image",
        "mask_video",
        "ref_images",
        "first_clip",
        "last_clip",
        "audio",
    )

    @staticmethod
    def asset_field(slot: str) -> str:
        return f"{slot}_asset"

    def kept_assets(self) -> dict[str, list[str]]:
        """Slot -> public ids named in the hidden fields (a new upload to the same slot replaces them)."""
        found = {}
        for slot in self.UPLOAD_SLOTS:
            if self.cleaned_data.get(slot):
                continue
            ids = [i for i in (self.cleaned_data.get(self.asset_field(slot)) or "").split(",") if i.strip()]
            if ids:
                found[slot] = ids[:3]
        return found

    def parts(self) -> dict[str, str]:
        """The prompt builder's structured parts (its JSON, or its textareas without JavaScript)."""
        from studio.prompts.builder import parts_from_post

        return parts_from_post(self.data)

    def mask_params(self) -> dict:
        return {
            k: self.cleaned_data[k] for k in self.MASK_PARAMS if self.cleaned_data.get(k) not in (None, "")
        }

    def clean_params(self):
        raw = self.cleaned_data["params"].strip()
        if not raw:
            return {}
        try:
            value = small_json(raw)
        except json.JSONDecodeError:
            raise forms.ValidationError(
                'Extra settings must be a JSON object, e.g. {"watermark": true}.'
            ) from None
        except ValueError as exc:
            raise forms.ValidationError(f"Extra settings can't be read: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Extra settings must be a JSON object.")
        return value

    def provider_model(self) -> tuple[str, str]:
        provider, _, model = self.cleaned_data["model"].partition(":")
        return provider, model

    def recipe(self, inputs: dict[str, list]) -> Recipe:
        """The job this (valid) form asks for, with ``inputs`` (form field -> assets) under catalog slots."""
        task = self.cleaned_data["task"] or None
        provider, model = self.provider_model()
        data = self.cleaned_data
        return Recipe(
            provider=provider,
            model=model,
            task=task,
            prompt=data["prompt"],
            parts=self.parts(),
            negative=data["negative"],
            size=data["size"] or None,
            resolution=data["resolution"] or None,
            duration=data["duration"],
            seed=data["seed"],
            params={**data["params"], **self.mask_params()},
            inputs={slot_for(task, name): assets for name, assets in inputs.items() if assets},
            as_is=(slot_for(task, "image"),)
            if data.get("image_as_is") == "1" and inputs.get("image")
            else (),
        )

    @classmethod
    def initial_from(cls, recipe: Recipe) -> dict:
        """The form's starting values for a recipe (remix): every setting and every input, by id."""
        params = dict(recipe.params)
        initial = {"mask_frame_id": params.pop("mask_frame_id")} if "mask_frame_id" in params else {}
        initial.update(
            model=recipe.key,
            task=recipe.task or "",
            prompt=recipe.prompt,
            negative=recipe.negative,
            size=recipe.size or "",
            resolution=recipe.resolution or "",
            duration=recipe.duration,
            seed=recipe.seed,
            params=json.dumps(params) if params else "",
        )
        if recipe.as_is:
            initial["image_as_is"] = "1"
        for slot, assets in recipe.inputs.items():
            field = field_for(recipe.task, slot)
            initial[cls.asset_field(field)] = ",".join(a.public_id for a in assets)
        return initial


# Form field -> catalog slot, by task: the extension's frames arrive in the first/last frame fields.
FIELD_SLOT = {"video_extension": {"image": "first_frame", "last_image": "last_frame"}}


def slot_for(task: str | None, field: str) -> str:
    return FIELD_SLOT.get(task or "", {}).get(field, field)


def field_for(task: str | None, slot: str) -> str:
    return {v: k for k, v in FIELD_SLOT.get(task or "", {}).items()}.get(slot, slot)


def job_catalog() -> dict:
    """What the job form's script needs to offer only what each model can do (keyed like the model field)."""
    from django.conf import settings

    data = {}
    for model in catalog.iter_models():
        tasks = {}
        for task in model.tasks:
            slots = []
            for slot in model.media_for(task).values():
                field = field_for(task, slot.name)
                slots.append(
                    {
                        "field": field,
                        "kind": slot.kind,
                        "required": slot.required,
                        "many": slot.many,
                        "label": slot.title,
                        "help": slot.help,
                    }
                )
            params = [
                {
                    "name": p.name,
                    "type": p.type,
                    "choices": list(p.choices or []),
                    "min": p.min,
                    "max": p.max,
                    "default": p.default,
                    "help": p.help,
                    "requires": p.requires,
                }
                for p in model.params_for(task).values()
                if p.type != "list" or p.choices
            ]
            tasks[task] = {
                "label": catalog.TASK_LABELS.get(task, task),
                "sizes": list(model.sizes_for(task)),
                # no size chosen: the output keeps the input video's size (the form's default)
                "follows_input": task in model.input_sized_tasks,
                "slots": slots,
                "params": params,
                # Inputs of which one (exactly_one) or some (at_least_one) must be given, by form field.
                "groups": [
                    {"rule": rule, "fields": [field_for(task, name) for name in names]}
                    for rule, names, rule_tasks in model.media_rules
                    if task in rule_tasks
                ],
            }
        public = model.needs_public_urls
        data[model.key] = {
            "tasks": tasks,
            "limits": limits_for(model.provider, model.id),  # the prompt builder's counts
            "resolutions": list(model.resolutions),
            "durations": list(model.durations),
            "default_size": model.default_size or "",
            "default_resolution": model.default_resolution or "",
            "default_duration": model.default_duration,
            "size_from_image": bool(model.size_from_image),
            # The vendor matches the video to the first frame itself: the image may go uncropped [000].
            "as_is": model.size_from_image == "exact",
            "paid": model.paid,
            "unavailable": (
                "This model fetches its inputs by URL, so the studio needs a public address (STUDIO_PUBLIC_BASE_URL); ask the admin."
                if public and not settings.STUDIO_PUBLIC_BASE_URL
                else ""
            ),
        }
    return data


class LimitsForm(forms.ModelForm):
    """An owner's limits for the workspace. Empty means no limit."""

    class Meta:
        from studio.workspaces.models import Workspace

        model = Workspace
        fields = ["monthly_budget", "max_jobs_in_flight"]
        labels = {"monthly_budget": "Monthly budget ($)", "max_jobs_in_flight": "Jobs in flight at once"}
        help_texts = {
            "monthly_budget": "New paid jobs are refused once this month's estimated spend would pass it. "
            "Empty: no budget.",
            "max_jobs_in_flight": "Queued and running jobs together. Empty: no cap.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monthly_budget"].min_value = 0
        self.fields["monthly_budget"].widget.attrs.update(min="0", step="0.01")
        self.fields["max_jobs_in_flight"].widget.attrs.update(min="1", max="10000")

    def clean_max_jobs_in_flight(self):
        value = self.cleaned_data["max_jobs_in_flight"]
        if value is not None and not 1 <= value <= 10000:
            raise forms.ValidationError("Choose between 1 and 10,000 jobs, or leave it empty for no cap.")
        return value

    def clean_monthly_budget(self):
        value = self.cleaned_data["monthly_budget"]
        if value is not None and value < 0:
            raise forms.ValidationError("A budget cannot be negative; leave it empty for no budget.")
        return value
