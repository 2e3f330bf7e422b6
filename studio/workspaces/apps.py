from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "studio.workspaces"
    label = "workspaces"
