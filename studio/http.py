"""Request types for views: ``request.htmx`` typed, and the user known to be logged in."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedRequest(HtmxHttpRequest):
    user: User
