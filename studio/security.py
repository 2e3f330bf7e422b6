"""Security helpers: a Content-Security-Policy header, and throttles against guessing.

The policy allows same-origin scripts, styles, media and requests only: no inline ``<script>``, no
``on…=`` attributes, no ``style=`` attributes, no ``eval`` (htmx filters such as ``[cond]`` in hx-trigger
need eval, so the studio does without them). Pages ask for confirmation with ``data-confirm="…"``
(static/js/confirm.js), never ``onsubmit``.

Throttles count failures in Django's cache, in fixed windows that start with the first failure:

- login: per username (10 failures in 15 minutes) and per client address (50 in 15 minutes, higher
  because an office shares one address). Past either, the login form answers 429 "Too many attempts;
  try again in N minutes" without checking the password, so even the right one is refused; a
  successful login clears the username's count. Any address can lock a username out for the window:
  that is the price of stopping password guessing on one account from many addresses.
- public tokens (share links, invites): per client address, 30 unknown tokens in 10 minutes, then
  every token lookup from that address is 429 (a valid token too: a different answer would tell).

Limits can be changed with ``STUDIO_THROTTLES = {"login_user": (10, 900), ...}`` (count, seconds).
The default cache is in-process memory: with several processes (gunicorn workers) or machines each
keeps its own counts, so the limits multiply; point STUDIO_CACHE_URL at Redis to share them.

The client address is REMOTE_ADDR, or behind a proxy (STUDIO_BEHIND_PROXY) the last address of
X-Forwarded-For, the one the proxy itself appended. IPv6 clients are counted per /64, since one
machine usually owns a whole /64.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponse

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
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES.items())


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


# Throttles ------------------------------------------------------------------------------------------

DEFAULT_THROTTLES = {
    "login_user": (10, 15 * 60),
    "login_ip": (50, 15 * 60),
    "token_ip": (30, 10 * 60),
}


class Throttle:
    """At most ``count`` failures per identity in a window that starts with the first one."""

    def __init__(self, scope: str):
        self.scope = scope

    @property
    def limit(self) -> tuple[int, int]:
        overrides = getattr(settings, "STUDIO_THROTTLES", None) or {}
        return tuple(overrides.get(self.scope, DEFAULT_THROTTLES[self.scope]))

    def _keys(self, ident: str) -> tuple[str, str]:
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        key = f"studio:throttle:{self.scope}:{digest}"
        return key, key + ":until"

    def wait(self, ident: str) -> int:
        """Seconds until ``ident`` may try again; 0 when it may now."""
        count, window = self.limit
        key, until_key = self._keys(ident)
        found = caches["default"].get_many([key, until_key])
        if found.get(key, 0) < count:
            return 0
        return max(1, math.ceil(found.get(until_key, time.time() + window) - time.time()))

    def hit(self, ident: str) -> int:
        """Count one failure; return the count in the current window."""
        _, window = self.limit
        cache = caches["default"]
        key, until_key = self._keys(ident)
        if cache.add(key, 0, window):
            cache.set(until_key, time.time() + window, window)
        try:
            return cache.incr(key)
        except ValueError:  # the window ran out between add and incr
            cache.set_many({key: 1, until_key: time.time() + window}, window)
            return 1

    def reset(self, ident: str) -> None:
        caches["default"].delete_many(list(self._keys(ident)))


login_by_user = Throttle("login_user")
login_by_ip = Throttle("login_ip")
token_misses = Throttle("token_ip")


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


def wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _username(request) -> str:
    return request.POST.get("username", "").strip().casefold()


class ThrottledLoginView(LoginView):
    """Django's LoginView, refusing with 429 after too many failures for a username or an address."""

    def post(self, request, *args, **kwargs):
        wait = max(login_by_user.wait(_username(request)), login_by_ip.wait(client_ip(request)))
        if wait:
            return self.throttled(wait)
        return super().post(request, *args, **kwargs)

    def throttled(self, wait: int):
        form = self.get_form()
        form.cleaned_data, form._errors = {}, ErrorDict()  # shown as refused, never validated
        form.add_error(None, ValidationError(wait_message(wait), code="throttled"))
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response

    def form_invalid(self, form):
        username, ip = _username(self.request), client_ip(self.request)
        by_user = login_by_user.hit(username) if username else 0
        by_ip = login_by_ip.hit(ip)
        if by_user == login_by_user.limit[0] or by_ip == login_by_ip.limit[0]:
            log.warning("login throttled: %d failures for one username, %d from %s", by_user, by_ip, ip)
        return super().form_invalid(form)

    def form_valid(self, form):
        login_by_user.reset(_username(self.request))
        return super().form_valid(form)


def throttle_token_misses(view):
    """For views that look a public token up: after too many 404s from one address, answer 429."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        ip = client_ip(request)
        wait = token_misses.wait(ip)
        if wait:
            response = HttpResponse(wait_message(wait), status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(wait)
            response["Cache-Control"] = "no-store"
            return response
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            _miss(ip)
            raise
        if response.status_code == 404:
            _miss(ip)
        return response

    wrapped.throttles_token_misses = True
    return wrapped


def _miss(ip: str) -> None:
    if token_misses.hit(ip) == token_misses.limit[0]:
        log.warning("token lookups throttled for %s: too many unknown tokens", ip)
