"""The job canvas: the project page's job form and what it is drawn from.

The project page holds one form laid out as a canvas (``templates/generations/job_form.html``): the prompt
builder's parts, the model and its settings, the upload slots and a summary of what will be made.
``job_form_context`` gives it a fresh form, a remix's whole recipe (``?remix=``, inputs included) or a
refused try, each upload slot with the assets it already holds, and the builder's state. Uploads are kept
as assets before the form is validated (``keep_uploads``), so a refusal never loses them: the form comes
back naming them by public id, and ``existing_inputs`` looks them up again in the workspace. Here too are
the rough cost of a job that does not validate yet, the catalog's ``<script>`` built once per process and
``prerendered``, a per-process memo of unbound forms' widget HTML (the gallery's filters use it too). The
views that serve the page and take its posts are in ``views.py``; this module never imports them.
"""

from django.core.exceptions import ValidationError

from studio.assets.services import SLOT_KINDS, create_asset
from studio.generations import limits
from studio.generations.forms import GenerationForm, job_catalog
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers import pricing
from studio.providers.catalog import CatalogError, get_model


def rough_estimate(form) -> pricing.Estimate | None:
    """The estimate of a job that does not validate yet, from the fields that do (None without a model)."""
    data = getattr(form, "cleaned_data", {})
    if not data.get("model"):
        return None
    provider, model_id = form.provider_model()
    try:
        model = get_model(provider, model_id)
    except CatalogError:
        return None
    task = data.get("task") or (model.tasks[0] if len(model.tasks) == 1 else None)
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    return pricing.estimate_for(
        provider,
        model_id,
        task=task,
        duration=data.get("duration") if data.get("duration") in model.durations else None,
        resolution=data.get("resolution") if data.get("resolution") in model.resolutions else None,
        size=data.get("size") or None,
        params=params,
    )


def shape(width: int | None, height: int | None) -> str:
    """A video's shape in a creator's words: "16:9", or "about 16:9" for 832x480."""
    from studio.providers.catalog import ASPECT_TOLERANCE, closest_aspect

    if not (width and height):
        return ""
    label, error = closest_aspect(width, height)
    return label if error <= ASPECT_TOLERANCE else f"about {label}"


def keep_uploads(form, membership, user) -> tuple[dict, dict]:
    """Store every acceptable uploaded file as an asset at once; return (slot -> assets, slot -> errors)."""
    uploads: dict[str, list] = {}
    errors: dict[str, list[str]] = {}
    for slot in GenerationForm.UPLOAD_SLOTS:
        files = request_files(form, slot)
        kept = []
        for f in files:
            try:
                kept.append(
                    create_asset(workspace=membership.workspace, user=user, source=f, expect=SLOT_KINDS[slot])
                )
            except ValidationError as exc:
                errors.setdefault(slot, []).extend(exc.messages)
        if kept:
            uploads[slot] = kept
    return uploads, errors


def request_files(form, slot: str) -> list:
    return [f for f in form.files.getlist(slot) if f] if form.files else []


def existing_inputs(form, membership) -> dict:
    """Inputs named by public id (kept uploads, the mask page's video and mask), looked up in this workspace."""
    from studio.assets.models import Asset

    found = {}
    for slot, public_ids in form.kept_assets().items():
        assets = {
            a.public_id: a
            for a in Asset.objects.filter(
                workspace_id=membership.workspace_id, public_id__in=public_ids, kind=SLOT_KINDS[slot]
            )
        }
        if len(assets) != len(set(public_ids)):
            raise ValidationError(
                {"__all__": [f"A {slot.replace('_', ' ')} you chose is no longer in this workspace."]}
            )
        found[slot] = [assets[i] for i in public_ids]
    return found


_widget_html: dict[str, str] = {}
_WIDGET_MEMO_MAX = 2000


def prerendered(form):
    """An unbound form whose fields print from a per-process memo of their widget HTML.

    A widget's markup is a pure function of what goes into it: its class and attributes, its choices, the
    field's value, id, name, help text and flags. The memo's key is all of that, so a changed choice or
    initial value is simply another entry; a bound form (a refused try, a filter chosen) is left alone.
    Rendering the job form's 25 widgets through Django's templates is about a fifth of the project page."""
    if form.is_bound:
        return form
    for name in form.fields:
        bf = form[name]
        field, widget = bf.field, bf.field.widget
        key = repr(
            (
                type(form).__module__,
                type(form).__qualname__,
                name,
                type(widget).__module__,
                type(widget).__qualname__,
                widget.attrs,
                list(getattr(widget, "choices", ()) or ()),
                bf.value(),
                bf.auto_id,
                bf.html_name,
                field.required,
                field.disabled,
                field.localize,
                str(field.help_text),
                form.use_required_attribute,
                form.empty_permitted,
                getattr(widget, "template_name", ""),
            )
        )
        bf.as_widget = _memo_widget(bf, bf.as_widget, key)
    return form


def _memo_widget(bf, real, key):
    def as_widget(widget=None, attrs=None, only_initial=False):
        if widget is not None or attrs or only_initial:
            return real(widget, attrs, only_initial)
        html = _widget_html.get(key)
        if html is None:
            html = real()
            if len(_widget_html) < _WIDGET_MEMO_MAX:
                _widget_html[key] = html
        return html

    return as_widget


def remix_source(membership, public_id: str) -> Generation | None:
    """The generation of this workspace being remixed, if any (an unknown id is simply no remix)."""
    if not public_id:
        return None
    return (
        Generation.objects.select_related("prompt")
        .filter(workspace_id=membership.workspace_id, public_id=public_id[:22])
        .first()
    )


def tasks_of(generation: Generation) -> tuple[str, ...]:
    """The tasks of the model a generation ran on (none for a model the catalog no longer has)."""
    try:
        return get_model(generation.provider, generation.model).tasks
    except CatalogError:
        return ()


def _remix_initial(source: Generation | None) -> dict:
    """The form's starting values when remixing: the whole recipe, inputs included."""
    if source is None:
        return {}
    return {**GenerationForm.initial_from(Recipe.of(source)), "remix_of": source.public_id}


def _input_fields(form, membership) -> list[dict]:
    """Each upload slot of the job form with the assets it already holds (kept from a refused try, picked
    on upload, or carried by a remix), so every field shows its own files."""
    from studio.assets.models import Asset

    ids = {
        slot: [i for i in str(form[GenerationForm.asset_field(slot)].value() or "").split(",") if i]
        for slot in GenerationForm.UPLOAD_SLOTS
    }
    wanted = {i for found in ids.values() for i in found}
    assets = (
        {
            a.public_id: a
            for a in Asset.objects.filter(workspace_id=membership.workspace_id, public_id__in=wanted)
        }
        if wanted
        else {}
    )
    return [
        {
            "name": slot,
            "field": form[slot],
            "asset_field": form[GenerationForm.asset_field(slot)],
            "kept": [assets[i] for i in ids[slot] if i in assets],
            "kind": SLOT_KINDS[slot],
        }
        for slot in GenerationForm.UPLOAD_SLOTS
    ]


def _builder(membership, form):
    """The prompt builder's state: what was last submitted, or a remix's recipe, or empty."""
    from studio.prompts.builder import builder_context, parts_from_post

    if form.is_bound:
        return builder_context(
            membership,
            parts=parts_from_post(form.data),
            prompt=form.data.get("prompt", ""),
            negative=form.data.get("negative", ""),
            errors=form.errors,
            limits=False,
        )
    return builder_context(
        membership,
        parts=form.initial.get("parts"),
        prompt=form.initial.get("prompt", ""),
        negative=form.initial.get("negative", ""),
        limits=False,
    )


_catalog_scripts: dict[tuple, str] = {}


def job_catalog_script() -> str:
    """The job form's catalog as its <script> tag, built once per process: it is static per deploy (the
    catalog and the public address it depends on), and building and encoding it cost each page ~1 ms."""
    from django.conf import settings
    from django.utils.html import json_script

    from studio.providers.catalog.vendors import models_by_provider

    key = (id(models_by_provider()), settings.STUDIO_PUBLIC_BASE_URL)
    script = _catalog_scripts.get(key)
    if script is None:
        script = _catalog_scripts[key] = json_script(job_catalog(), "job-catalog")
    return script


def job_form_context(request, membership, project, form=None) -> dict:
    """What the job form needs: the form (fresh, a remix's recipe, or a refused try), its inputs and the
    builder. Only the full project page builds it; the gallery's fragments never do."""
    remix = None
    if form is None:
        remix = remix_source(membership, request.GET.get("remix", ""))
        initial = _remix_initial(remix)
        if remix is not None:
            initial["parts"] = remix.prompt.parts
            # "Edit inside a mask" from a video's page: the same recipe, another function of the model.
            task = request.GET.get("task", "")
            if task and task in tasks_of(remix):
                initial["task"] = task
        form = GenerationForm(initial=initial)
    elif form.is_bound:
        remix = remix_source(membership, form.data.get("remix_of", ""))
    prerendered(form)
    inputs = _input_fields(form, membership)
    return {
        "generation_form": form,
        "remix": remix,
        "input_fields": inputs,
        "kept_image": next((f["kept"][0] for f in inputs if f["name"] == "image" and f["kept"]), None),
        "kept_image_as_is": form["image_as_is"].value() == "1",
        "builder": _builder(membership, form),
        "job_catalog_script": job_catalog_script(),
        "usage": limits.usage(membership.workspace),  # the budget line: counts at most seconds old
    }
