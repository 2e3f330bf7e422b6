"""Signed, expiring, plain-ASCII URLs for inputs a vendor must fetch itself (DashScope VACE)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "studio.assets.public"
MAX_AGE = 6 * 3600  # long enough for a queued vendor task to fetch its inputs


def public_url(asset) -> str:
    token = signing.dumps(asset.public_id, salt=SALT, compress=False)
    name = f"{asset.public_id}.{ {'jpeg': 'jpg'}.get(asset.format, asset.format) }"
    return settings.STUDIO_PUBLIC_BASE_URL + reverse("public_asset", kwargs={"token": token, "name": name})


def read_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
