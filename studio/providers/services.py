"""Per-workspace provider keys: set, check, remove, rotate. The key itself is never returned or logged."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from studio.providers.base import ProviderError
from studio.providers.models import ProviderCredential
from studio.providers.registry import get_provider

CLOUD_PROVIDERS = ("siliconflow", "dashscope", "jiekou")


def set_key(*, workspace, provider: str, key: str, user) -> ProviderCredential:
    key = key.strip()
    if provider not in CLOUD_PROVIDERS:
        raise ValidationError("Unknown provider.")
    if len(key) < 8 or any(c.isspace() for c in key):
        raise ValidationError("That does not look like an API key (at least 8 characters, no spaces).")
    credential = ProviderCredential.objects.filter(
        workspace=workspace, provider=provider
    ).first() or ProviderCredential(workspace=workspace, provider=provider)
    credential.set_key(key)
    credential.created_by = user
    credential.checked_at = None
    credential.check_message = ""
    credential.save()
    return credential


def remove_key(*, workspace, provider: str) -> bool:
    deleted, _ = ProviderCredential.objects.filter(workspace=workspace, provider=provider).delete()
    return bool(deleted)


def check_key(*, workspace, provider: str) -> tuple[bool, str]:
    """One cheap authenticated call with the key jobs of this workspace would use."""
    try:
        get_provider(provider, workspace_id=workspace.pk).check_key()
        ok, message = True, "The provider accepted the key."
    except ProviderError as exc:
        ok, message = False, exc.message
    ProviderCredential.objects.filter(workspace=workspace, provider=provider).update(
        checked_at=timezone.now(), check_message=message[:300]
    )
    return ok, message


def rotate_all() -> int:
    """Re-encrypt every stored key with the first of STUDIO_SECRET_KEYS."""
    from studio.providers import crypto

    count = 0
    for credential in ProviderCredential.objects.all():
        credential.encrypted_key = crypto.rotate(credential.encrypted_key)
        credential.save(update_fields=["encrypted_key"])
        count += 1
    return count
