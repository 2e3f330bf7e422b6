from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "studio.generations"
    label = "generations"

    def ready(self) -> None:
        from studio import checks  # noqa: F401 - registers the many-hosts checks (storage, connections)
