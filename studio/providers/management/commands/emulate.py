import sys

from django.core.management.base import BaseCommand

from studio.providers.emulators import run_all


class Command(BaseCommand):
    help = (
        "Serve the SiliconFlow, DashScope and jiekou protocols on loopback (PORT, PORT+1, PORT+2), so the whole "
        "cloud flow can be tried offline. Point the studio at them with the printed *_BASE_URL lines, give any "
        "*_API_KEY the --key value, and set STUDIO_FETCH_ALLOW_PRIVATE=true so results on 127.0.0.1 can be fetched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8700)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--key", default="test-key", help="the API key the emulators accept")
        parser.add_argument("--task-seconds", type=float, default=10.0, help="how long each job takes")

    def handle(self, port: int, host: str, key: str, task_seconds: float, **options):
        run_all(host=host, port=port, api_key=key, task_seconds=task_seconds, out=sys.stdout)
