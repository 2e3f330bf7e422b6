"""Security wiring: the Content-Security-Policy, login and token throttles, CSRF, and check --deploy.

Until settings.py and urls.py carry the wiring, the tests apply it themselves: the CSP middleware through
the settings fixture.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from studio import security
from studio.security import CONTENT_SECURITY_POLICY, client_ip, throttle_token_misses
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CSP_MIDDLEWARE = "studio.security.ContentSecurityPolicyMiddleware"
EXPECTED_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def csp(settings):
    if CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(
            middleware.index("django.middleware.security.SecurityMiddleware") + 1, CSP_MIDDLEWARE
        )
        settings.MIDDLEWARE = middleware


@pytest.fixture
def shared(world):
    from django.core.files.base import ContentFile

    from studio.generations.models import Generation
    from studio.sharing import services
    from tests.factories import make_generation

    g = make_generation(world.workspace, project=world.project, status=Generation.Status.SUCCEEDED)
    g.video.save("v.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 2000), save=False)
    g.poster.save("p.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100), save=False)
    g.save(update_fields=["video", "poster"])
    return services.create_share_link(workspace=world.workspace, user=world.owner.user, generation=g)


# Content-Security-Policy ----------------------------------------------------------------------------


def test_the_policy_is_exactly_the_agreed_one():
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


@pytest.mark.usefixtures("csp")
def test_every_kind_of_page_carries_the_policy(world, shared):
    slug = world.workspace.slug
    answers = {
        "login": Client().get(reverse("login")),
        "signup": Client().get(reverse("signup")),
        "home": world.owner.client.get(reverse("home")),
        "workspace": world.owner.client.get(reverse("workspaces:detail", args=[slug])),
        "gallery (htmx)": world.owner.client.get(
            reverse("gallery", args=[slug]), headers={"HX-Request": "true"}
        ),
        "prompt builder": world.owner.client.get(reverse("prompts:builder", args=[slug])),
        "share page": Client().get(reverse("shared", args=[shared.token])),
        "not found": world.outsider.client.get(reverse("workspaces:detail", args=[slug])),
        "forbidden": world.viewer.client.get(reverse("providers:keys", args=[slug])),
        "redirect": Client().get(reverse("home")),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {
        "login": 200,
        "signup": 200,
        "home": 302,  # to the only workspace
        "workspace": 200,
        "gallery (htmx)": 200,
        "prompt builder": 200,
        "share page": 200,
        "not found": 404,
        "forbidden": 403,
        "redirect": 302,
    }
    for name, response in answers.items():
        assert response["Content-Security-Policy"] == EXPECTED_CSP, name
    assert answers["login"]["X-Frame-Options"] == "DENY"  # frame-ancestors and XFO agree


def test_a_view_may_set_its_own_policy_and_debug_error_pages_are_left_alone(settings):
    response = HttpResponse()
    response["Content-Security-Policy"] = "default-src 'none'"
    middleware = security.ContentSecurityPolicyMiddleware(lambda request: response)
    assert middleware(RequestFactory().get("/"))["Content-Security-Policy"] == "default-src 'none'"

    settings.DEBUG = True
    for status, has_policy in ((404, False), (500, False), (200, True), (403, True)):
        answer = security.ContentSecurityPolicyMiddleware(lambda request, s=status: HttpResponse(status=s))(
            RequestFactory().get("/")
        )
        assert ("Content-Security-Policy" in answer) is has_policy, status


INLINE_PATTERNS = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I | re.S),
    "<style> element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "hx-on (eval)": re.compile(r"\shx-on", re.I),
    "hx-vals js: (eval)": re.compile(r"hx-va(?:ls|rs)=['\"]\s*(?:js|javascript):", re.I),
}


def test_templates_need_nothing_the_policy_blocks():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", path.read_text(), flags=re.S)
        for kind, pattern in INLINE_PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {kind}")
        # hx-trigger="every 2s [cond]": a filter right after the event needs eval (a CSS selector after
        # from: or target:, as in "from:find input[type=search]", does not).
        for match in re.finditer(r"hx-trigger=([\"'])(.*?)\1", text, flags=re.S):
            if any("[" in re.split(r"\b(?:from|target):", part)[0] for part in match.group(2).split(",")):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: hx-trigger filter (eval)")
    base = (ROOT / "templates" / "base.html").read_text()
    if not re.search(r"<meta name=\"htmx-config\" content='\{[^']*\"includeIndicatorStyles\": false", base):
        problems.append("templates/base.html: htmx would inject its indicator <style>")
    if "js/confirm.js" not in base:
        problems.append("templates/base.html: static/js/confirm.js is not loaded (data-confirm)")
    assert problems == []


def test_static_scripts_use_no_eval_or_style_attributes():
    problems = []
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        text = path.read_text()
        for kind, pattern in {
            "eval": re.compile(r"\beval\(|new Function\(|\bFunction\("),
            "style attribute": re.compile(r"setAttribute\(\s*['\"]style['\"]"),
            "inline handler": re.compile(r"setAttribute\(\s*['\"]on[a-z]+['\"]"),
            "markup with style/handlers": re.compile(
                r"(?:innerHTML|insertAdjacentHTML)[^;]*(?:style=|\son[a-z]+=)"
            ),
        }.items():
            problems += [f"{path.name}: {kind}" for _ in pattern.finditer(text)]
    assert problems == []


def _named_views(resolver) -> dict:
    from django.urls import URLResolver

    found = {}
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if not entry.namespace:  # the namespaced apps name none of the doors checked here
                found.update(_named_views(entry))
        elif entry.name:
            found[entry.name] = entry.callback
    return found


def test_the_project_itself_is_wired(settings):
    from django.urls import get_resolver

    assert CSP_MIDDLEWARE in settings.MIDDLEWARE
    views = _named_views(get_resolver())
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert getattr(views["password_change"], "view_class", None) is security.GuardedPasswordChangeView
    for name in ("shared", "shared_media", "invite_accept"):
        assert getattr(views[name], "throttles_token_misses", False), name


# One lock on every door (django-axes) ----------------------------------------------------------------

LIMIT = 10  # settings.AXES_FAILURE_LIMIT: the limit-th failure locks


def attempt(username: str, password: str, ip: str = "203.0.113.7", path: str | None = None):
    client = Client()
    return client, client.post(
        path or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def fail(username: str, times: int, ip: str = "203.0.113.7", path: str | None = None):
    for _ in range(times):
        attempt(username, "wrong", ip, path)


def test_ten_wrong_passwords_lock_the_username_even_against_the_right_one(world):
    name = world.owner.user.username
    for _ in range(LIMIT - 1):
        _, response = attempt(name, "wrong")
        assert response.status_code == 200 and "Please enter a correct username" in response.content.decode()
    _, response = attempt(name, "wrong")
    assert response.status_code == 429  # the tenth failure is answered by the lock
    client, response = attempt(name, PASSWORD)
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many attempts; try again in 15 minutes." in page and "You can try again after" in page
    assert int(response["Retry-After"]) == 900
    assert "_auth_user_id" not in client.session  # the right password did not log in
    # From another address too: the count belongs to the username (case and spaces do not matter).
    _, response = attempt(f"  {name.upper()} ", PASSWORD, ip="198.51.100.9")
    assert response.status_code == 429


def test_look_alike_names_are_the_same_name(world):
    """Full-width letters are the ASCII name once Django reads it (NFKC): they count, and are locked, as one."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="dave", password=PASSWORD)
    fullwidth = "\uff44\uff41\uff56\uff45"  # "dave" in full-width letters
    fail("dave", LIMIT // 2, ip="203.0.113.20")
    fail(fullwidth, LIMIT - LIMIT // 2, ip="203.0.113.21")  # the rest through the look-alike
    assert attempt("dave", PASSWORD, ip="198.51.100.30")[1].status_code == 429
    assert attempt(fullwidth, PASSWORD, ip="198.51.100.31")[1].status_code == 429


def test_the_admin_login_shares_the_lock(world):
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_superuser(username="boss", password=PASSWORD)
    admin_login = reverse("admin:login")
    fail(boss.username, LIMIT - 1, path=admin_login)
    assert attempt(boss.username, "wrong", path=admin_login)[1].status_code == 429
    client, response = attempt(boss.username, PASSWORD, path=admin_login)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # Locked on the site's door as well, and the other way round for an address blocked there.
    assert attempt(boss.username, PASSWORD, ip="198.51.100.40")[1].status_code == 429
    fail("someone", LIMIT, ip="203.0.113.90")
    assert attempt("other", PASSWORD, ip="203.0.113.90", path=admin_login)[1].status_code == 429


def test_wrong_old_passwords_on_password_change_lock_the_account(world):
    client = Client()
    client.force_login(world.editor.user)
    url = reverse("password_change")
    form = {"new_password1": "another long passphrase 42", "new_password2": "another long passphrase 42"}
    for _ in range(LIMIT - 1):
        response = client.post(url, {"old_password": "wrong", **form}, REMOTE_ADDR="203.0.113.60")
        assert (
            response.status_code == 200
            and "old password was entered incorrectly" in response.content.decode()
        )
    assert client.post(url, {"old_password": "wrong", **form}, REMOTE_ADDR="203.0.113.60").status_code == 429
    response = client.post(url, {"old_password": PASSWORD, **form}, REMOTE_ADDR="203.0.113.61")
    assert response.status_code == 429  # the right old password too, from anywhere
    world.editor.user.refresh_from_db()
    assert world.editor.user.check_password(PASSWORD)
    assert attempt(world.editor.user.username, PASSWORD, ip="198.51.100.62")[1].status_code == 429


def test_another_username_from_another_address_is_unaffected(world):
    fail(world.owner.user.username, LIMIT + 2)
    client, response = attempt(world.editor.user.username, PASSWORD, ip="198.51.100.9")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(world.editor.user.pk)


def test_a_successful_login_clears_the_username_count(world):
    name = world.owner.user.username
    fail(name, LIMIT - 1)
    assert attempt(name, PASSWORD)[1].status_code == 302
    fail(name, LIMIT - 1)
    assert attempt(name, PASSWORD)[1].status_code == 302  # 18 failures in all, never 10 in a row


def test_one_address_trying_many_usernames_is_stopped(world):
    for i in range(LIMIT):
        attempt(f"guess-{i}", "wrong", ip="203.0.113.50")
    _, response = attempt(world.editor.user.username, PASSWORD, ip="203.0.113.50")
    assert response.status_code == 429
    assert attempt(world.editor.user.username, PASSWORD, ip="203.0.113.51")[1].status_code == 302


def test_the_lock_ends_with_its_cool_off(world):
    from datetime import timedelta

    from axes.models import AccessAttempt

    name = world.owner.user.username
    fail(name, LIMIT)
    assert attempt(name, PASSWORD)[1].status_code == 429
    # Fifteen minutes and a second after the latest try (each try while locked starts the wait again).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    assert attempt(name, PASSWORD)[1].status_code == 302


def test_client_addresses():
    rf = RequestFactory()
    assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"
    # One machine owns a /64: rotating through it does not escape the count.
    a = client_ip(rf.get("/", REMOTE_ADDR="2001:db8:1:2::1"))
    assert a == client_ip(rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")) == "2001:db8:1:2::/64"
    assert client_ip(rf.get("/", REMOTE_ADDR="::ffff:203.0.113.7")) == "203.0.113.7"
    # The lock's database column (PostgreSQL's inet) takes plain addresses only.
    assert security.axes_client_ip(rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")) == "2001:db8:1:2::"
    assert security.axes_client_ip(rf.get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"
    assert security.axes_client_ip(rf.get("/", REMOTE_ADDR="not an address")) == "0.0.0.0"


def test_forwarded_for_counts_only_behind_a_proxy(settings):
    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    settings.STUDIO_BEHIND_PROXY = False
    assert client_ip(spoofed) == "10.0.0.2"  # a client cannot pick its own identity
    settings.STUDIO_BEHIND_PROXY = True
    assert client_ip(spoofed) == "203.0.113.7"  # the address the proxy appended, not the client's claim


# Token lookups ----------------------------------------------------------------------------------------


def test_guessing_share_tokens_is_stopped_but_other_addresses_still_work(shared):
    guesser = Client(REMOTE_ADDR="203.0.113.66")
    for i in range(LIMIT - 1):
        assert guesser.get(reverse("shared", args=[f"guess-{i:04d}"])).status_code == 404
    assert guesser.get(reverse("shared", args=["guess-last"])).status_code == 429  # the limit-th locks
    blocked = guesser.get(reverse("shared", args=["guess-9999"]))
    assert (
        blocked.status_code == 429
        and "Too many attempts; try again in 15 minutes." in blocked.content.decode()
    )
    assert blocked["Retry-After"] and blocked["Cache-Control"] == "no-store"
    # The valid token is refused to the guesser too: a different answer would confirm the find.
    assert guesser.get(reverse("shared", args=[shared.token])).status_code == 429
    media = reverse("shared_media", args=[shared.token, shared.generation.public_id, "jpg"])
    assert guesser.get(media).status_code == 429
    # Everyone else is unaffected.
    visitor = Client(REMOTE_ADDR="198.51.100.20")
    assert visitor.get(reverse("shared", args=[shared.token])).status_code == 200
    assert visitor.get(media).status_code == 200


def test_valid_tokens_do_not_count(shared):
    visitor = Client(REMOTE_ADDR="203.0.113.67")
    for _ in range(40):
        assert visitor.get(reverse("shared", args=[shared.token])).status_code == 200


def test_guessing_invite_tokens_is_stopped_and_locks_the_address_on_every_door(world, settings):
    from studio.workspaces.models import Invite

    settings.AXES_FAILURE_LIMIT = 3
    invite = Invite.objects.create(workspace=world.workspace, role="viewer", created_by=world.owner.user)
    client = world.outsider.client
    for i in range(2):
        assert (
            client.get(reverse("invite_accept", args=[f"nope-{i}"]), REMOTE_ADDR="203.0.113.70").status_code
            == 404
        )
    assert (
        client.get(reverse("invite_accept", args=["nope-2"]), REMOTE_ADDR="203.0.113.70").status_code == 429
    )
    assert (
        client.get(reverse("invite_accept", args=[invite.token]), REMOTE_ADDR="203.0.113.70").status_code
        == 429
    )
    assert (
        client.get(reverse("invite_accept", args=[invite.token]), REMOTE_ADDR="203.0.113.71").status_code
        == 200
    )
    # One lock: the guessing address cannot log in either, even with a right password.
    assert attempt(world.editor.user.username, PASSWORD, ip="203.0.113.70")[1].status_code == 429


@pytest.mark.django_db
def test_the_decorator_counts_raised_and_returned_404s_and_keeps_view_attributes(settings):
    settings.AXES_FAILURE_LIMIT = 2

    def raising(request):
        raise Http404

    def returning(request):
        return HttpResponse(status=404)

    raising.login_required = False
    guarded_raising, guarded_returning = throttle_token_misses(raising), throttle_token_misses(returning)
    assert guarded_raising.login_required is False  # login_not_required survives the decorator
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.80")
    with pytest.raises(Http404):
        guarded_raising(request)
    assert guarded_returning(request).status_code == 404
    assert guarded_returning(request).status_code == 429


# CSRF and deployment checks ---------------------------------------------------------------------------


def test_a_write_without_a_csrf_token_is_refused(world):
    from studio.projects.models import Project

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner.user)
    url = reverse("projects:create", args=[world.workspace.slug])
    assert client.post(url, {"name": "Sneaky"}).status_code == 403
    assert not Project.objects.filter(name="Sneaky").exists()
    # The same post with the token from a page goes through, so the 403 was the token's doing.
    page = client.get(reverse("workspaces:detail", args=[world.workspace.slug]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert client.post(url, {"name": "Honest", "csrfmiddlewaretoken": token}).status_code == 302
    assert Project.objects.filter(name="Honest").exists()


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    env = {
        # A production-like environment: none of this run's own settings (nor Django switches such as
        # DJANGO_ALLOW_ASYNC_UNSAFE, which the Playwright tests set) leak in.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("STUDIO_", "DATABASE_URL", "CELERY_", "DJANGO_"))
        },
        "STUDIO_SECURE": "true",
        "STUDIO_SECRET_KEY": secrets.token_urlsafe(64),
        "STUDIO_ALLOWED_HOSTS": "studio.example.com",
        "STUDIO_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# The policy in a real browser ------------------------------------------------------------------------

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def _async_unsafe():
    """Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there without this."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": CHROMIUM, "args": ["--no-sandbox", "--disable-gpu", "--no-first-run"]}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
    and os.environ.get("STUDIO_REQUIRE_BROWSER") != "1",
    reason=f"{CHROMIUM} not found",
)
def test_pages_work_under_the_policy_in_chromium(_async_unsafe, live_server, browser, world, tmp_path):
    """Every page that scripts itself, served with the policy: the browser reports no violation."""
    from django.core.files.base import ContentFile

    from studio.assets.services import create_asset
    from studio.generations.models import Generation
    from tests.factories import make_generation
    from tests.media import make_video

    slug = world.workspace.slug
    finished = []
    for text in ("one", "two"):
        g = make_generation(
            world.workspace, project=world.project, status=Generation.Status.SUCCEEDED, text=text
        )
        g.video.save(
            "v.mp4", ContentFile(make_video(tmp_path / f"{text}.mp4", 320, 192).read_bytes()), save=False
        )
        g.poster.save("p.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100), save=False)
        g.save(update_fields=["video", "poster"])
        finished.append(g)
    make_generation(world.workspace, project=world.project, status=Generation.Status.RUNNING, text="polling")
    video = create_asset(
        workspace=world.workspace,
        user=world.owner.user,
        source=make_video(tmp_path / "clip.mp4", 320, 192, frames=8),
        expect="video",
    )
    pages = [
        reverse("workspaces:detail", args=[slug]),
        reverse("projects:detail", args=[slug, world.project.public_id]),
        reverse("gallery", args=[slug]),
        reverse("generations:detail", args=[slug, finished[0].public_id]),
        reverse("compare", args=[slug]) + "?ids=" + ",".join(g.public_id for g in finished),
        reverse("masks:mask_page", args=[slug, video.public_id]),
        reverse("prompts:builder", args=[slug]),
        reverse("prompts:templates", args=[slug]),
        reverse("workspaces:members", args=[slug]),
        reverse("providers:keys", args=[slug]),
    ]

    context = browser.new_context()
    violations: list[str] = []

    def with_policy(route):
        response = route.fetch(max_redirects=0)  # the browser follows them itself
        headers = {**response.headers}
        headers.setdefault("content-security-policy", EXPECTED_CSP)
        route.fulfill(response=response, headers=headers)

    context.route(f"{live_server.url}/**", with_policy)
    page = context.new_page()
    page.on(
        "console",
        lambda m: violations.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(world.owner.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/w/"))
    for url in pages:
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # let htmx and the page scripts start
    context.close()
    assert violations == [], "\n".join(violations)


CONFIRM_PAGE = """<!doctype html><html><head>
<script src="/static/django_htmx/htmx-2.min.js" defer></script>
<script src="/static/js/confirm.js" defer></script></head><body>
<form id="whole" method="post" action="/confirm-test/posted" data-confirm="Delete it?"><button id="go">Go</button></form>
<form id="split" method="post" action="/confirm-test/posted">
  <button id="again" data-confirm="Submit again?">Again</button><button id="plain">Plain</button></form>
<form id="htmx" hx-post="/confirm-test/htmx" hx-swap="none" data-confirm="Remove the key?"><button id="hx">Remove</button></form>
<a id="away" href="/confirm-test/away" data-confirm="Leave?">Leave</a>
</body></html>"""


@pytest.mark.browser
@pytest.mark.skipif(
    not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
    and os.environ.get("STUDIO_REQUIRE_BROWSER") != "1",
    reason=f"{CHROMIUM} not found",
)
def test_confirm_js_asks_and_a_no_stops_the_action(_async_unsafe, live_server, browser):
    """static/js/confirm.js under the policy: plain forms, one button of a form, htmx forms and links."""
    base = f"{live_server.url}/confirm-test"
    context = browser.new_context()
    reached: list[str] = []

    def fake(route):
        path = route.request.url.removeprefix(base)
        if path != "/":
            reached.append(path)
        route.fulfill(
            body=CONFIRM_PAGE if path == "/" else "ok",
            content_type="text/html",
            headers={"Content-Security-Policy": EXPECTED_CSP},
        )

    context.route(f"{base}/**", fake)
    page = context.new_page()
    asked: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)

    def act(selector: str, accept: bool | None) -> None:
        page.goto(f"{base}/")
        page.wait_for_function("window.htmx && document.readyState === 'complete'")
        answer["accept"] = bool(accept)
        page.click(selector)
        page.wait_for_timeout(300)

    act("#go", accept=False)
    act("#again", accept=False)
    act("#hx", accept=False)
    act("#away", accept=False)
    assert asked == ["Delete it?", "Submit again?", "Remove the key?", "Leave?"]
    assert reached == []  # every "no" stopped its action, htmx's request included

    asked.clear()
    act("#plain", accept=None)  # the other button of the split form asks nothing
    assert asked == [] and reached == ["/posted"]
    for selector, path in (("#go", "/posted"), ("#again", "/posted"), ("#hx", "/htmx"), ("#away", "/away")):
        reached.clear()
        act(selector, accept=True)
        assert reached == [path], selector
    assert asked == ["Delete it?", "Submit again?", "Remove the key?", "Leave?"]
    context.close()
