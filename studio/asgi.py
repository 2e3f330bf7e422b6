"""The web process under ASGI (uvicorn workers in gunicorn: ``manage.py up`` and the Procfile's web line).

Pages stay synchronous views; the gallery's event streams are async, so an open tab holds no thread."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
application = get_asgi_application()


def _no_persistent_connections() -> None:
    """Under ASGI each request's synchronous part runs in a thread of its own, so a connection kept for
    reuse would only be left behind by that thread: Django's docs ask for CONN_MAX_AGE 0 under ASGI."""
    from django.conf import settings

    for conf in settings.DATABASES.values():
        conf["CONN_MAX_AGE"] = 0


_no_persistent_connections()

from studio.checks import refuse_to_start  # noqa: E402 - after Django is set up

refuse_to_start("web")  # a missing bucket stops the boot with its name (gunicorn: "Worker failed to boot")
