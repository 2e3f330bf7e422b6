from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_builtins(sender, **kwargs):
    """Keep the built-in templates equal to the code's after every migrate (and after a test flush)."""
    from studio.prompts.services import sync_builtin_templates

    sync_builtin_templates()


class PromptsConfig(AppConfig):
    name = "studio.prompts"
    label = "prompts"

    def ready(self) -> None:
        post_migrate.connect(_sync_builtins, sender=self, dispatch_uid="studio.prompts.builtins")
