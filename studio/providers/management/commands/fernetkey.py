"""Print a new Fernet key for STUDIO_SECRET_KEYS (provider keys at rest)."""

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Print a new Fernet key for STUDIO_SECRET_KEYS. Give every process the same keys; to rotate, "
        "prepend the new one (newkey,oldkey), restart, then run rotatekeys."
    )

    def handle(self, **options):
        self.stdout.write(Fernet.generate_key().decode())
