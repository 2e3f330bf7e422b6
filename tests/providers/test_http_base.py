"""The shared HTTP base: what every cloud vendor gets from it, and what the shared code no longer knows."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from studio.providers.base import ErrorKind, HttpProvider, InputFile, ProviderError, data_uri


class Vendor(HttpProvider):
    name = "acme"
    label = "Acme"


def provider(handler) -> Vendor:
    return Vendor(
        api_key="k",
        base_url="https://acme.test/v1",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def test_a_200_without_a_task_id_is_an_unknown_outcome():
    p = provider(lambda request: httpx.Response(200, json={"status": "ok"}))
    with pytest.raises(ProviderError) as caught:
        p.submit_json("/submit", {"prompt": "x"}, lambda reply: reply.get("id"))
    assert caught.value.kind == ErrorKind.UNKNOWN_OUTCOME and caught.value.code == "malformed"


@pytest.mark.parametrize(("status", "code"), [(401, "auth"), (403, "forbidden"), (404, "not_found")])
def test_refused_keys_and_wrong_paths_are_for_the_admin(status, code):
    p = provider(lambda request: httpx.Response(status, text="no"))
    with pytest.raises(ProviderError) as caught:
        p.submit_json("/submit", {}, lambda reply: reply.get("id"))
    error = caught.value
    assert (error.kind, error.code, error.config) == (ErrorKind.PERMANENT, code, True)
    assert "ACME_" in error.message and "Acme" in error.message


def test_data_uri_has_no_space_and_refuses_types_the_vendor_does_not_take(tmp_path: Path):
    path = tmp_path / "a.gif"
    path.write_bytes(b"GIF89a")
    image = InputFile(slot="image", path=str(path), content_type="image/gif")
    assert data_uri(image, label="Acme") == "data:image/gif;base64," + base64.b64encode(b"GIF89a").decode()
    with pytest.raises(ProviderError) as caught:
        data_uri(image, label="Acme", allowed=("image/png",))
    assert caught.value.code == "format" and caught.value.kind == ErrorKind.PERMANENT
    with pytest.raises(ProviderError) as unreadable:
        data_uri(
            InputFile(slot="image", path=str(tmp_path / "gone.png"), content_type="image/png"), label="Acme"
        )
    assert unreadable.value.code == "input" and unreadable.value.kind == ErrorKind.PERMANENT


def test_the_shared_validation_names_no_vendor_setting():
    source = Path("studio/providers/catalog/validation.py").read_text()
    for name in ("obj_or_bg", "mask_frame_id", "template", "first_clip", "first_frame"):
        assert name not in source, name
