import json

from django.core.management.base import BaseCommand

from studio.providers import catalog


class Command(BaseCommand):
    help = "Every provider and model the studio knows: tasks, inputs, sizes, durations, limits, parameters."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, as_json: bool = False, **options):
        if as_json:
            self.stdout.write(json.dumps(catalog.as_data(), indent=2))
            return
        for provider, models in catalog.CATALOG.items():
            self.stdout.write(self.style.MIGRATE_HEADING(f"{provider} — {catalog.PROVIDER_LABELS[provider]}"))
            for model in models.values():
                shapes = ", ".join(model.sizes) or ", ".join(model.resolutions) or "-"
                durations = ", ".join(str(d) for d in model.durations) or "-"
                self.stdout.write(
                    f"  {model.id}  [{', '.join(model.tasks)}]  {'paid' if model.paid else 'free'}"
                )
                self.stdout.write(
                    f"      sizes: {shapes}   durations: {durations} s   fps: {model.fps or '-'}"
                )
                if model.prompt_max_chars:
                    self.stdout.write(f"      prompt: up to {model.prompt_max_chars} characters")
                media = sorted({f"{s.name}({s.kind})" for s in model.media})
                if media:
                    self.stdout.write(f"      inputs: {', '.join(media)}")
                params = sorted({p.name for p in model.params})
                if params:
                    self.stdout.write(f"      settings: {', '.join(params)}")
