from django import forms

from studio.generations.models import Generation
from studio.generations.selectors import GalleryFilters
from studio.providers import catalog


class GalleryFilterForm(forms.Form):
    """The gallery's filter bar. Labels are short because they sit visibly above small controls."""

    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search prompts"}),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), ("active", "In progress"), *list(Generation.Status.choices)],
    )
    provider = forms.ChoiceField(
        required=False, choices=[("", "Any provider")] + [(k, v) for k, v in catalog.PROVIDER_LABELS.items()]
    )
    model = forms.ChoiceField(
        required=False,
        choices=lambda: [("", "Any model"), *sorted({(m.id, m.id) for m in catalog.iter_models()})],
    )
    task = forms.ChoiceField(
        required=False,
        choices=[("", "Any task")] + [(t, catalog.TASK_LABELS.get(t, t)) for t in catalog.TASKS],
    )
    author = forms.CharField(
        required=False, max_length=150, widget=forms.TextInput(attrs={"placeholder": "Username"})
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        # The project page shows this form next to the job form, which has its own model and task
        # fields: Django's default ids (id_model, id_task) would clash there, and a label would point
        # at the other form's control.
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)

    def filters(self) -> GalleryFilters:
        if not self.is_valid():
            return GalleryFilters()
        data = {
            k: (v.isoformat() if hasattr(v, "isoformat") else (v or "")) for k, v in self.cleaned_data.items()
        }
        return GalleryFilters(**data)
