"""What the processes write to the terminal: one access line per request worth reading, no 4xx tracebacks.

Imported by the logging configuration before Django's apps are ready, so it imports no models.
"""

import logging
import time

from django.http import HttpRequest


class AccessLogMiddleware:
    """One line per request worth reading: what a person did and what went wrong, not the pollers.

    Logged: every request that is not a plain read (POST, ...), every page a person opened, every 4xx and
    5xx, and any request slower than SLOW_SECONDS. Quiet: successful fragments (htmx polls, live cards),
    media and JSON reads. An expected 403 or 404 is this one line; django.request keeps tracebacks for 5xx.
    """

    SLOW_SECONDS = 1.0

    def __init__(self, get_response):
        self.get_response = get_response
        self.log = logging.getLogger("studio.access")

    def __call__(self, request: HttpRequest):
        started = time.monotonic()
        response = self.get_response(request)
        elapsed = time.monotonic() - started
        status = response.status_code
        page = not request.headers.get("HX-Request") and response.get("Content-Type", "").startswith(
            "text/html"
        )
        if status >= 400 or elapsed >= self.SLOW_SECONDS or request.method not in ("GET", "HEAD") or page:
            self.log.log(
                logging.WARNING if status >= 500 else logging.INFO,
                "%s %s %s %.0f ms",
                request.method,
                request.get_full_path()[:300],
                status,
                elapsed * 1000,
            )
        return response


class QuietClientErrors(logging.Filter):
    """For django.request: a 4xx is the client's business, already one line in the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", 500) >= 500
