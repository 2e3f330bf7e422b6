"""Serving private media: access is checked by the caller; this answers with the bytes, honouring Range.

Browsers seek videos with Range requests, so a 206 with the asked-for slice is what makes the player's
scrubber work. In production, STUDIO_ACCEL_REDIRECT_PREFIX hands the file to nginx instead. On S3 the
studio never carries the bytes: it answers with a redirect to a presigned link that lives
STUDIO_S3_URL_SECONDS, and the browser's Range requests go to S3 itself.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def _slice(fh, start: int, length: int):
    fh.seek(start)
    remaining = length
    try:
        while remaining > 0:
            data = fh.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()


MAX_RANGE_HEADER = 64  # "bytes=" and two offsets of up to 19 digits, with room to spare


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end) inclusive; None when there is no usable Range header; False when unsatisfiable."""
    if len(header) > MAX_RANGE_HEADER:
        return False  # no file has offsets that long; int() of thousands of digits would fail anyway
    match = RANGE_RE.match(header.strip())
    if not match:
        return None  # multiple ranges or a malformed header: RFC 9110 lets us send the whole file
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or start > end:
        return False
    return start, end


def named_for(name: str, content_type: str) -> str:
    """The person's file name with the extension of what the file is: a PNG uploaded as "x.html" is
    saved back as "x.png", so opening the saved copy never renders whatever was appended to it."""
    extension = mimetypes.guess_extension(content_type)
    if not extension or Path(name).suffix.lower() in mimetypes.guess_all_extensions(content_type):
        return name
    return f"{Path(name).stem or 'file'}{extension}"


def _presigned(field_file, *, content_type: str, disposition: str, download_name: str | None) -> str | None:
    """A short-lived link straight to the object, when the storage is S3; None on local media."""
    storage = field_file.storage
    if not hasattr(storage, "bucket_name"):
        return None
    from django.utils.http import content_disposition_header

    parameters = {"ResponseContentType": content_type, "ResponseCacheControl": "private, max-age=3600"}
    if download_name:
        parameters["ResponseContentDisposition"] = content_disposition_header(
            disposition == "attachment", named_for(download_name, content_type)
        )
    return storage.url(field_file.name, parameters=parameters)


def serve_file(
    request: HttpRequest, field_file, *, content_type: str, download_name: str | None = None
) -> HttpResponse:
    disposition = "attachment" if request.GET.get("download") == "1" else "inline"
    signed = _presigned(
        field_file, content_type=content_type, disposition=disposition, download_name=download_name
    )
    if signed:
        response = HttpResponseRedirect(signed)
        # The link expires: a browser may reuse this answer for a while, never past the link's life.
        lifetime = max(0, int(getattr(field_file.storage, "querystring_expire", 0)) // 2)
        response["Cache-Control"] = f"private, max-age={lifetime}"
        response["Referrer-Policy"] = "no-referrer"
        return response
    if settings.STUDIO_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = (
            settings.STUDIO_ACCEL_REDIRECT_PREFIX.rstrip("/") + "/" + field_file.name
        )
    else:
        size = field_file.size
        wanted = parse_range(request.headers.get("Range", ""), size) if request.headers.get("Range") else None
        if wanted is False:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        if wanted is None:
            response = FileResponse(field_file.open("rb"), content_type=content_type)
            response["Content-Length"] = str(size)
        else:
            start, end = wanted
            response = StreamingHttpResponse(
                _slice(field_file.open("rb"), start, end - start + 1), status=206, content_type=content_type
            )
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
        response["Accept-Ranges"] = "bytes"
    if download_name:
        from django.utils.http import content_disposition_header

        response["Content-Disposition"] = content_disposition_header(
            disposition == "attachment", named_for(download_name, content_type)
        )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
