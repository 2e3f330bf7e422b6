"""Security helpers: a Content-Security-Policy header, and one lock against guessing on every door.

The policy allows same-origin scripts, styles, media and requests only: no inline ``<script>``, no
``on…=`` attributes, no ``style=`` attributes, no ``eval`` (htmx filters such as ``[cond]`` in hx-trigger
need eval, so the studio does without them). Pages ask for confirmation with ``data-confirm="…"``
(static/js/confirm.js), never ``onsubmit``.

Guessing is stopped by django-axes (settings ``AXES_*``): every failure on any door counts in one store
(the database, so every web process and host shares it), by the username as Django reads it (NFKC,
then case-folded, so a full-width or capitalised twin of a name is that name) and by the client's address:

- the site's login and the admin's login (Django's ``authenticate`` reports every failure);
- password change (a wrong old password is reported here, by ``PasswordChangeView``);
- public token lookups, share links and invites (an unknown token counts for the address).

Past the limit (``AXES_FAILURE_LIMIT``) a username or an address is refused on every door with 429 and a
page saying when to try again (``locked_out``), even with the right password; each try during the lock
starts its cool-off (``AXES_COOLOFF_TIME``) again. A successful login clears the username's failures.
``manage.py axes_reset`` lifts every lock.

The client address is REMOTE_ADDR, or behind a proxy (STUDIO_BEHIND_PROXY) the last address of
X-Forwarded-For, the one the proxy itself appended. IPv6 clients are counted per /64, since one
machine usually owns a whole /64.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import unicodedata
from datetime import timedelta
from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

log = logging.getLogger("studio.security")

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "style-src": "'self'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def _with_media_origin(directives: dict[str, str]) -> dict[str, str]:
    """On S3, videos and posters come from presigned links on the bucket's endpoint: allow that origin."""
    origin = getattr(settings, "STUDIO_MEDIA_ORIGIN", "")
    if not origin:
        return directives
    return {
        **directives,
        "img-src": f"{directives['img-src']} {origin}",
        "media-src": f"{directives['media-src']} {origin}",
    }


CONTENT_SECURITY_POLICY = "; ".join(
    f"{name} {value}" for name, value in _with_media_origin(CSP_DIRECTIVES).items()
)


class ContentSecurityPolicyMiddleware:
    """Adds the studio's Content-Security-Policy to every response that has none yet.

    With DEBUG on, Django's technical 404 and 500 pages (inline styles and scripts) are left without
    it, so they stay readable.
    """

    header = "Content-Security-Policy"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        if self.header not in response:
            response[self.header] = CONTENT_SECURITY_POLICY
        return response


# Guessing ------------------------------------------------------------------------------------------


def client_ip(request) -> str:
    """The address to count a client by (see the module docstring)."""
    ip = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "STUDIO_BEHIND_PROXY", False):
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if hops:
            ip = hops[-1]
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip or "unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


def axes_client_ip(request) -> str:
    """AXES_CLIENT_IP_CALLABLE: ``client_ip`` as a plain address, as the lock's database column wants one
    (PostgreSQL's inet): a /64 by its first address, an unreadable one as 0.0.0.0 (all such count as one)."""
    ip = client_ip(request)
    try:
        return str(ipaddress.ip_network(ip, strict=False).network_address)
    except ValueError:
        return "0.0.0.0"  # noqa: S104 - a key for the lock, never an address to bind


def normal_username(name: str) -> str:
    """A username as the lock counts it: Django's NFKC, then case-folded, without surrounding spaces."""
    return unicodedata.normalize("NFKC", name or "").strip().casefold()


def axes_username(request, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: the username a failure or a lock belongs to ("" when there is none)."""
    name = (credentials or {}).get("username")
    if name is None and request is not None and request.method == "POST":
        name = request.POST.get("username", "")
    return normal_username(name or "")


def lockout_parameters(request, credentials: dict | None) -> list[str]:
    """AXES_LOCKOUT_PARAMETERS: count by username and by address; a door without a username (a token
    lookup) counts by address only, so unknown tokens never pile up under one empty name."""
    return ["username", "ip_address"] if axes_username(request, credentials) else ["ip_address"]


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}."


def locked_out(request, original_response=None, credentials: dict | None = None):
    """AXES_LOCKOUT_CALLABLE: the page a locked-out person sees, on every door, saying when to retry."""
    wait = int(cool_off().total_seconds())
    response = render(
        request,
        "registration/locked_out.html",
        {
            "message": wait_message(wait),
            "retry_at": timezone.localtime() + cool_off(),
            "admin": request.path.startswith("/admin/"),
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


def report_failure(request, *, username: str = "") -> None:
    """Count one failure on a door that does not go through ``authenticate`` (tokens, password change)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def is_locked(request, *, username: str = "") -> bool:
    return AxesProxyHandler.is_locked(request, {"username": username})


def throttle_token_misses(view):
    """For views that look a public token up: an unknown token counts against the address, and a locked
    address is refused every lookup (a valid token too: a different answer would tell)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if is_locked(request):
            return locked_out(request)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            report_failure(request)
            raise
        if response.status_code == 404:
            report_failure(request)
        return response

    wrapped.throttles_token_misses = True
    return wrapped


class GuardedPasswordChangeView(PasswordChangeView):
    """Django's password change, where a wrong old password counts as a failed login of this user."""

    def post(self, request, *args, **kwargs):
        if is_locked(request, username=request.user.get_username()):
            return locked_out(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password"):
            report_failure(self.request, username=self.request.user.get_username())
        return super().form_invalid(form)


def _log_lockout(sender, request, username=None, ip_address=None, **kwargs):
    log.warning("locked out after too many failures: username %r, address %s", username, ip_address)


user_locked_out.connect(_log_lockout, dispatch_uid="studio.security.lockout")
