"""Public identifiers: random, URL-safe and non-sequential, so URLs reveal neither counts nor order."""

import secrets


def new_public_id() -> str:
    return secrets.token_urlsafe(12)  # 96 bits, 16 characters


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits, for links that grant access on their own
