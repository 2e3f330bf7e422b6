from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "studio.assets"
    label = "assets"

    def ready(self) -> None:
        # Before any connection opens the database: the files the studio writes are made private here.
        from studio import filemodes

        filemodes.prepare()
