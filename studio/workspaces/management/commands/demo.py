import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from studio.projects.models import Project
from studio.workspaces.services import ensure_workspace

USERNAME = "demo"


def demo_login() -> tuple[str, str]:
    """The demo login: its password is made once and kept in the data directory, so it can be shown again."""
    path = settings.DATA_DIR / "demo_password.txt"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(9), encoding="utf-8")
        path.chmod(0o600)
    return USERNAME, path.read_text(encoding="utf-8").strip()


class Command(BaseCommand):
    help = "Create the demo user, its workspace 'demo' and a first project, if missing; print the login."

    def handle(self, **options):
        username, password = demo_login()
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password)
        workspace, _ = ensure_workspace(slug="demo", name="Demo", owner=user)
        if not Project.objects.filter(workspace=workspace).exists():
            Project.objects.create(workspace=workspace, name="First steps", created_by=user)
        self.stdout.write(f"login: {username} / {password}")
