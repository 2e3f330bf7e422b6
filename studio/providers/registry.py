"""Which provider class serves which name, and the API key each one gets.

Backends are listed in settings.STUDIO_PROVIDERS (like STORAGES) and imported lazily, so a vendor
module is loaded only when a job of that vendor runs.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from studio.providers.base import Provider

_import = cache(import_string)


def provider_class(name: str) -> type[Provider]:
    try:
        conf = settings.STUDIO_PROVIDERS[name]
    except KeyError:
        raise LookupError(
            f"Unknown provider {name!r}; known: {', '.join(settings.STUDIO_PROVIDERS)}"
        ) from None
    return _import(conf["BACKEND"])


def provider_names() -> list[str]:
    return list(settings.STUDIO_PROVIDERS)


def api_key_for(name: str, workspace_id: int | None) -> str:
    """The workspace's own key for ``name`` if it has one, else the instance-wide key."""
    if workspace_id is not None:
        from studio.providers.models import ProviderCredential

        credential = ProviderCredential.objects.filter(workspace_id=workspace_id, provider=name).first()
        if credential is not None:
            return credential.get_key()
    return settings.STUDIO_PROVIDERS[name]["OPTIONS"].get("api_key", "")


def get_provider(name: str, *, workspace_id: int | None = None) -> Provider:
    options = dict(settings.STUDIO_PROVIDERS[name].get("OPTIONS", {}))
    options["api_key"] = api_key_for(name, workspace_id)
    options.setdefault("timeout", settings.STUDIO_PROVIDER_TIMEOUT)
    return provider_class(name)(**options)
