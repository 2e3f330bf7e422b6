from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studio.workspaces.services import ensure_workspace


class Command(BaseCommand):
    help = "Create a workspace (idempotent); with --owner, make that user one of its owners."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--owner", help="username to make an owner")
        parser.add_argument("--name", help="display name (defaults to the slug)")

    def handle(self, slug: str, owner: str | None = None, name: str | None = None, **options):
        user = None
        if owner:
            try:
                user = get_user_model().objects.get(username=owner)
            except get_user_model().DoesNotExist:
                raise CommandError(
                    f"No user named {owner!r}. Create it first (manage.py createsuperuser)."
                ) from None
        workspace, created = ensure_workspace(slug=slug, name=name, owner=user)
        self.stdout.write(f"{'Created' if created else 'Exists'}: workspace {workspace.slug}")
