from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "studio.assets"
    label = "assets"
