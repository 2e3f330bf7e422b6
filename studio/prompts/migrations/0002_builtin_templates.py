"""The built-in prompt templates (workspace NULL), from studio.prompts.builder.BUILTIN_TEMPLATES."""

from django.db import migrations


def create_builtins(apps, schema_editor):
    from studio.prompts.services import sync_builtin_templates

    sync_builtin_templates(apps.get_model("prompts", "PromptTemplate"))


def remove_builtins(apps, schema_editor):
    from studio.prompts.services import remove_builtin_templates

    remove_builtin_templates(apps.get_model("prompts", "PromptTemplate"))


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = [migrations.RunPython(create_builtins, remove_builtins)]
