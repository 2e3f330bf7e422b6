import time

from django.core.management.base import BaseCommand

from studio.generations import engine
from studio.generations.models import Generation


class Command(BaseCommand):
    help = "Run the engine's sweeper by hand: once, or until no job is left in flight (ops, tests, benches)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--until-idle", action="store_true", help="keep sweeping until no job is in flight"
        )
        parser.add_argument("--timeout", type=float, default=600.0)
        parser.add_argument("--interval", type=float, default=0.2)

    def handle(self, until_idle: bool, timeout: float, interval: float, **options):
        deadline = time.monotonic() + timeout
        totals = engine.SweepReport()
        while True:
            report = engine.sweep()
            totals.recovered += report.recovered
            totals.submitted += report.submitted
            totals.polled += report.polled
            totals.errors += report.errors
            in_flight = Generation.objects.filter(status__in=Generation.IN_FLIGHT).exists()
            if not until_idle or not in_flight or time.monotonic() > deadline:
                break
            time.sleep(interval)
        self.stdout.write(
            f"recovered={totals.recovered} submitted={totals.submitted} polled={totals.polled} errors={len(totals.errors)}"
        )
