"""Request bodies judged by their length before they are read.

Django reads a multipart body whole (its files into temporary files) before any view can look at a size,
so a 200 MB post to a view that takes 20 MB costs 200 MB of reading and disk before the refusal. Here a view
states the most it takes (``accepts_upload``) and ``CappedUploadHandler``, first in
``FILE_UPLOAD_HANDLERS``, judges the declared Content-Length against it before anything is read:

- too large, with the CSRF token in a header (as the studio's scripts send it): nothing is read at all;
- too large, without one (a page's form, whose token is its first field): the fields before the first file
  are read, so the CSRF check can pass, and reading stops where the file begins;
- within the cap but longer than declared (a stream with no length, or one that lies): the file's bytes are
  counted as they arrive and reading stops past the cap.

Nothing raises: the parse ends early and leaves a ``Refusal`` on the request, because the CSRF middleware
parses the body before the view runs and would turn an exception into a bare 400 page. A view asks
``refusal_of(request)`` and answers in the person's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from studio.assets.services import ABSOLUTE_MAX

MB = 1024 * 1024
SLACK = 64 * 1024  # the multipart envelope and a view's few small fields, beside its file
# A view that states nothing: a job form sent without JavaScript carries its files itself, a video and its
# mask video at the largest. (With JavaScript, each file goes to the upload view as it is picked.)
DEFAULT_MAX_BODY = 2 * ABSOLUTE_MAX + SLACK


@dataclass
class Refusal:
    """A body refused for its size: ``size`` is what it declared (or what had arrived when it was cut off)."""

    size: int
    cap: int
    file_name: str = ""

    def words(self, limit: str) -> str:
        """ "The upload is 200.0 MB; images may be up to 20 MB." (``limit`` is the part after the ";")"""
        size = f"{self.size / MB:.1f} MB"
        if self.file_name:
            return f"“{self.file_name}” is too large: the upload is {size}; {limit}."
        return f"The upload is {size}; {limit}."


def accepts_upload(max_bytes: int):
    """Decorate a view (outermost, so the URL's callable carries it) with the largest body it takes."""

    def mark(view):
        view.upload_max_bytes = max_bytes
        return view

    return mark


def body_cap(request) -> int:
    stated = getattr(request, "upload_max_bytes", None)
    if stated is None:
        match = getattr(request, "resolver_match", None)
        stated = getattr(getattr(match, "func", None), "upload_max_bytes", None)
    return DEFAULT_MAX_BODY if stated is None else stated


def refusal_of(request) -> Refusal | None:
    """The refusal the body's parse left, parsing it first if nothing has yet."""
    request.FILES  # noqa: B018 - the parse is what decides
    return getattr(request, "upload_refusal", None)


class CappedUploadHandler(FileUploadHandler):
    """First of the upload handlers: refuses a body over its view's cap before it is read (see above)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.cap = body_cap(self.request)
        self.received = 0
        self.refuse_at_file = False
        if content_length <= self.cap:
            return None
        self.request.upload_refusal = Refusal(size=content_length, cap=self.cap)
        if META.get("HTTP_X_CSRFTOKEN"):
            return QueryDict(encoding=encoding), MultiValueDict()  # nothing read, nothing needed
        self.refuse_at_file = True
        return None

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if self.refuse_at_file:
            self.request.upload_refusal.file_name = file_name
            raise StopUpload(connection_reset=True)  # stop here: not a byte of the file is read

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.cap:
            self.request.upload_refusal = Refusal(size=self.received, cap=self.cap, file_name=self.file_name)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the handlers after this one keep the file
