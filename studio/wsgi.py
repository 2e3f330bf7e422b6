import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
application = get_wsgi_application()

from studio.checks import refuse_to_start  # noqa: E402 - after Django is set up

refuse_to_start("web")  # a missing bucket stops the boot with its name (gunicorn: "Worker failed to boot")
