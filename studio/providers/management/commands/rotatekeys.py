from django.core.management.base import BaseCommand

from studio.providers.services import rotate_all


class Command(BaseCommand):
    help = "Re-encrypt every stored provider key with the first key of STUDIO_SECRET_KEYS."

    def handle(self, **options):
        self.stdout.write(f"re-encrypted {rotate_all()} provider keys")
