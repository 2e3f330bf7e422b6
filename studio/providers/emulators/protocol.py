"""Requests and replies as the emulators see them, and the type checks vendors apply to JSON fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    raw_path: str  # with the query string
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # sleep this long before answering
    action: str = "answer"  # "answer" | "hang" (never answer) | "drop" (close without answering)
    hang_seconds: float = 600.0


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(obj, ensure_ascii=False).encode(), "application/json", dict(headers or {})
    )


def text_reply(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode(), content_type)


def gateway_reply(status: int) -> Reply:
    """What a load balancer in front of a vendor sends: an HTML page, no vendor JSON."""
    title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}.get(status, f"{status} Error")
    html = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    return Reply(status, html.encode(), "text/html")


class Refusal(Exception):
    """Raised by validation code: answer with ``reply`` and stop (nothing is created or counted)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def type_name(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), "null" if value is None else type(value).__name__)
