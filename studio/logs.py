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
    media and JSON reads, and views marked ``@quiet`` (asked in the background, such as the job form's
    summary). An expected 403 or 404 is this one line; django.request keeps tracebacks for 5xx.
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
        background = getattr(request, "quiet_access_log", False)
        page = not request.headers.get("HX-Request") and response.get("Content-Type", "").startswith(
            "text/html"
        )
        acted = request.method not in ("GET", "HEAD") and not background
        if status >= 400 or elapsed >= self.SLOW_SECONDS or acted or (page and not background):
            self.log.log(
                logging.WARNING if status >= 500 else logging.INFO,
                "%s %s %s %.0f ms",
                request.method,
                request.get_full_path()[:300],
                status,
                elapsed * 1000,
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.quiet_access_log = getattr(view_func, "quiet_access_log", False)


def quiet(view):
    """Mark a view asked in the background: its successful answers write no access-log line."""
    view.quiet_access_log = True
    return view


class QuietClientErrors(logging.Filter):
    """For django.request: a 4xx is the client's business, already one line in the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", 500) >= 500
