"""Every page of the URL table (tests/test_access.py), checked for two markup mistakes that browsers
forgive but assistive technology and scripts do not:

- an ``id`` used twice on a page: a ``<label for>``, ``aria-labelledby`` or ``getElementById`` then finds
  the first element only, usually the wrong one;
- a form control without an accessible name: a screen reader announces just "combo box" or "edit text".

A control is named by a ``<label for>`` that points at it, an enclosing ``<label>``, ``aria-label``,
``aria-labelledby`` (every id it lists must exist) or ``title``. A placeholder is not a name: it goes away
as soon as someone types.

Pages are fetched as the owner, who can open every one of them; public pages (share links, log in,
sign up) also as an anonymous visitor. Only full HTML pages are checked; NOT_PAGES names the URLs that
answer media, JSON or fragments, and any other URL that does not answer a page fails the test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.core.files import File
from django.urls import reverse

from tests.test_access import EXPECT, ROUTES

UNNAMED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    in_label: bool

    def describe(self) -> str:
        shown = " ".join(f'{k}="{self.attrs[k]}"' for k in ("name", "id", "type") if self.attrs.get(k))
        return f"<{self.tag}{' ' + shown if shown else ''}>"


class Markup(HTMLParser):
    """The parts of a page these checks need, read with the standard library's HTML parser."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ""  # the first element's tag
        self.ids: Counter[str] = Counter()
        self.first_with_id: dict[str, int] = {}  # id -> index of the first element holding it
        self.label_targets: set[str] = set()
        self.controls: list[tuple[int, Control]] = []
        self.label_depth = 0
        self.elements = 0

    def handle_starttag(self, tag, attrs):
        self._element(tag, {k: v or "" for k, v in attrs})
        if tag == "label":
            self.label_depth += 1

    def handle_startendtag(self, tag, attrs):
        self._element(tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag):
        if tag == "label" and self.label_depth:
            self.label_depth -= 1

    def _element(self, tag, attrs):
        self.root = self.root or tag
        index = self.elements
        self.elements += 1
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
            self.first_with_id.setdefault(attrs["id"], index)
        if tag == "label" and attrs.get("for"):
            self.label_targets.add(attrs["for"])
        is_control = tag in ("select", "textarea") or (
            tag == "input" and attrs.get("type", "text").lower() not in UNNAMED_INPUT_TYPES
        )
        if is_control:
            self.controls.append((index, Control(tag, attrs, self.label_depth > 0)))

    def duplicate_ids(self) -> list[str]:
        return [f'id="{i}" is used {n} times' for i, n in sorted(self.ids.items()) if n > 1]

    def unnamed_controls(self) -> list[str]:
        problems = []
        for index, control in self.controls:
            a = control.attrs
            own_id = a.get("id", "")
            # A <label for> names the first element with that id only.
            by_for = bool(own_id) and own_id in self.label_targets and self.first_with_id[own_id] == index
            referenced = a.get("aria-labelledby", "").split()
            missing = [i for i in referenced if i not in self.ids]
            if referenced and missing:
                problems.append(
                    f"{control.describe()} has aria-labelledby pointing at missing id(s) {missing}"
                )
                continue
            by_attribute = any(a.get(k, "").strip() for k in ("aria-label", "title"))
            if not (by_for or control.in_label or referenced or by_attribute):
                problems.append(f"{control.describe()} has no accessible name")
        return problems


def parse(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    markup.close()
    return markup


# ------------------------------------------------------------------------------------------ the pages


# What a GET in the URL table answers that is not a full page (checked where it is used, or not markup).
NOT_PAGES = {
    "asset_file": "a media file",
    "generations:poster": "a media file",
    "generations:video": "a media file",
    "masks:mask_frame": "a media file",
    "public_asset": "a media file",
    "shared_media": "a media file",
    "storyboards:export_file": "a media file",
    "prompts:template_parts": "JSON",
    "generations:card": "an htmx fragment, part of the project page",
    "generations:news": "an htmx fragment, part of the project page",
    "generations:live": "an event stream (204 under WSGI), not a page",
    "masks:painter": "an htmx fragment, checked inside the job form by tests/browser/test_journeys.py",
}
# A logged-in owner is sent on from these; the anonymous case checks the page itself.
REDIRECT_OWNERS = {"home", "login", "signup"}


def _cases():
    for name in sorted(ROUTES):
        route = ROUTES[name]
        if route.method != "GET" or EXPECT[route.kind]["owner"] != "ok" or name in NOT_PAGES:
            continue
        if name not in REDIRECT_OWNERS:
            yield name, "owner"
        if route.kind == "public":
            yield name, "anonymous"


CASES = list(_cases())


@pytest.fixture
def furnished(world, sample_mp4, tmp_path):
    """Pages with something on them: finished, running and failed jobs, and a project share link."""
    from studio.assets.probe import make_poster
    from studio.generations.models import Generation
    from studio.sharing.services import create_share_link
    from tests.factories import make_generation

    S = Generation.Status
    done = make_generation(world.workspace, project=world.project, status=S.SUCCEEDED, user=world.owner.user)
    poster = tmp_path / "poster.jpg"
    done.width, done.height = make_poster(sample_mp4, poster)
    with sample_mp4.open("rb") as f:
        done.video.save("video.mp4", File(f), save=False)
    with poster.open("rb") as f:
        done.poster.save("poster.jpg", File(f), save=False)
    done.save()
    make_generation(world.workspace, project=world.project, status=S.RUNNING, progress=0.4)
    make_generation(world.workspace, project=world.project, status=S.FAILED, error_message="refused")
    create_share_link(workspace=world.workspace, user=world.owner.user, project=world.project)
    return world


def fetch(world, name: str, persona: str) -> Markup:
    """The page, parsed; it must be a full HTML page (NOT_PAGES lists the URLs that are not)."""
    route = ROUTES[name]
    response = world.persona(persona).client.get(reverse(name, kwargs=route.kwargs(world)))
    assert response.status_code == 200, (name, persona, response.status_code, response.get("Location"))
    assert response.get("Content-Type", "").startswith("text/html"), (name, response.get("Content-Type"))
    markup = parse(b"".join(response).decode() if response.streaming else response.content.decode())
    assert markup.root == "html", f"{name} is not a full page: add it to NOT_PAGES with the reason"
    return markup


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_ids_are_unique(furnished, name, persona):
    problems = fetch(furnished, name, persona).duplicate_ids()
    assert not problems, f"{name} as {persona}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_every_form_control_has_an_accessible_name(furnished, name, persona):
    problems = fetch(furnished, name, persona).unnamed_controls()
    assert not problems, f"{name} as {persona}:\n  " + "\n  ".join(problems)


def test_the_checks_find_what_they_look_for():
    """The parser itself: each kind of mistake is caught, and each correct way of naming passes."""
    page = parse(
        """<!doctype html><html><body>
        <p id="a"></p><p id="a"></p>
        <label for="x">X</label><input id="x" name="x">
        <label>Y <select name="y"></select></label>
        <textarea name="z" aria-label="Z"></textarea>
        <span id="w-label">W</span><input name="w" aria-labelledby="w-label">
        <input name="t" title="T"> <input type="hidden" name="h"> <input type="submit">
        <input name="bare" placeholder="a placeholder is not a name">
        <input name="ghost" aria-labelledby="nowhere">
        <label for="twice">first</label><input id="twice" name="one"><input id="twice" name="two">
        </body></html>"""
    )
    assert page.root == "html"
    assert page.duplicate_ids() == ['id="a" is used 2 times', 'id="twice" is used 2 times']
    problems = page.unnamed_controls()
    assert len(problems) == 3, problems
    assert 'name="bare"' in problems[0] and "no accessible name" in problems[0]
    assert 'name="ghost"' in problems[1] and "missing id(s) ['nowhere']" in problems[1]
    assert 'name="two"' in problems[2]  # the label names the first element with the id, not this one
