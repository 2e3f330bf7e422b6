"""Gallery speed at scale: 10,000 generations, then the pages a person and the htmx pollers ask for.

Seeds a fresh database, then times each request through Django's full stack in this process (middleware,
session, access check, queries, template) with the test client, and counts the queries of each.
Prints ``name value unit`` lines (p50/p95 over --repeat requests). The project page and the running card
each have a bare twin timed in the same run: a plain Django view behind the same middleware and login that
lists the same rows' fields through a minimal template, so ``*_vs_bare`` says how near the real page is to
what Django itself costs (1.0x is bare speed).

    .venv/bin/python bench/gallery.py [--rows 10000] [--repeat 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rows", type=int, default=10_000)
parser.add_argument("--repeat", type=int, default=200)
parser.add_argument("--database-url", default="")
ARGS = parser.parse_args()

WORK = Path(tempfile.mkdtemp(prefix="bench-gallery-"))
os.environ["STUDIO_DATA_DIR"] = str(WORK)
os.environ["DATABASE_URL"] = ARGS.database_url or f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from studio.generations.models import Generation  # noqa: E402
from studio.projects.models import Project  # noqa: E402
from studio.prompts.models import Prompt  # noqa: E402
from studio.workspaces.models import Membership, Workspace  # noqa: E402

WORDS = [
    "lighthouse",
    "forest",
    "city",
    "river",
    "neon",
    "fox",
    "lantern",
    "desert",
    "ocean",
    "storm",
    "robot",
    "garden",
    "train",
    "snow",
]
STATUSES = [Generation.Status.SUCCEEDED] * 8 + [Generation.Status.FAILED, Generation.Status.RUNNING]


def seed() -> tuple[Client, str, str]:
    call_command("migrate", verbosity=0)
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    ws = Workspace.objects.create(slug="bench", name="Bench")
    Membership.objects.create(workspace=ws, user=user, role="owner")
    project = Project.objects.create(workspace=ws, name="Big project")
    other = Project.objects.create(workspace=ws, name="Other")
    rng = random.Random(7)
    prompts = Prompt.objects.bulk_create(
        Prompt(
            workspace=ws, project=project, author=user, text=" ".join(rng.choice(WORDS) for _ in range(12))
        )
        for _ in range(ARGS.rows)
    )
    gens = []
    for i, prompt in enumerate(prompts):
        status = rng.choice(STATUSES)
        gens.append(
            Generation(
                workspace=ws,
                project=project if i % 10 else other,
                prompt=prompt,
                created_by=user,
                provider=rng.choice(["local", "siliconflow", "dashscope", "jiekou"]),
                model="m",
                task="t2v",
                status=status,
                size="1280x720",
                duration=5,
                width=1280 if status == "succeeded" else None,
                height=720 if status == "succeeded" else None,
                result_duration=5.0 if status == "succeeded" else None,
            )
        )
    Generation.objects.bulk_create(gens, batch_size=1000)
    # auto_now_add overrides the times given above: spread them one second apart again, oldest first.
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE generations_generation SET created_at = created_at - (%s - id) * INTERVAL '1 second'"
            if connection.vendor == "postgresql"
            else "UPDATE generations_generation SET created_at = datetime(created_at, '-' || (%s - id) || ' seconds')",
            [ARGS.rows],
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # as autovacuum would soon after: plans for 10,000 rows, not for none
    running = (
        Generation.objects.filter(project=project, status=Generation.Status.RUNNING)
        .values_list("public_id", flat=True)
        .first()
    )
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return client, project.public_id, running


BARE_PAGE = """<!doctype html><title>{{ project.name }}</title><h1>{{ project.name }}</h1>
{% for g in generations %}<article id="generation-{{ g.public_id }}" class="gcard gcard--{{ g.status }}">
<a href="/w/{{ slug }}/g/{{ g.public_id }}/">{{ g.prompt.text|truncatechars:90 }}</a>
<p>{{ g.status }} {{ g.model }} {{ g.duration }} s {{ g.width }}x{{ g.height }} {{ g.size }} {{ g.progress }}
{{ g.created_by.username }} <time>{{ g.created_at|date:'c' }}</time></p></article>
{% endfor %}"""
BARE_CARD = BARE_PAGE.split("{% for g in generations %}")[1].split("{% endfor %}")[0]


def bare_views(project_pk: int, workspace_pk: int) -> None:
    """The bare twins, routed beside the real pages (same middleware, same session and login)."""
    from django.http import HttpResponse
    from django.template import engines
    from django.urls import clear_url_caches, path

    import studio.urls

    engine = engines["django"]
    page_template = engine.from_string(BARE_PAGE)
    card_template = engine.from_string(BARE_CARD)

    def bare_page(request):
        project = Project.objects.get(pk=project_pk, workspace_id=workspace_pk)
        rows = list(
            Generation.objects.filter(workspace_id=workspace_pk, project=project)
            .select_related("prompt", "created_by")
            .order_by("-created_at", "-id")[:24]
        )
        return HttpResponse(page_template.render({"project": project, "generations": rows, "slug": "bench"}))

    def bare_card(request, public_id):
        g = Generation.objects.select_related("prompt", "created_by").get(
            workspace_id=workspace_pk, public_id=public_id
        )
        return HttpResponse(card_template.render({"g": g, "slug": "bench"}))

    studio.urls.urlpatterns.insert(0, path("bare/card/<str:public_id>/", bare_card))
    studio.urls.urlpatterns.insert(0, path("bare/page/", bare_page))
    clear_url_caches()


def measure(client: Client, name: str, url: str, headers: dict | None = None) -> float:
    headers = headers or {}
    client.get(url, **headers)  # warm
    times, queries = [], 0
    for _ in range(ARGS.repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    times.sort()
    print(f"{name}_p50 {statistics.median(times):.1f} ms")
    print(f"{name}_p95 {times[int(0.95 * len(times)) - 1]:.1f} ms")
    print(f"{name}_queries {queries} queries")
    return statistics.median(times)


def versus(name: str, real: float, bare: float) -> None:
    print(f"{name}_vs_bare {bare / real:.2f} x  (p50 {real:.1f} ms, bare {bare:.1f} ms)")


def main() -> None:
    client, project_id, running = seed()
    print(
        f"# {Generation.objects.count()} generations, {ARGS.repeat} requests each, in-process through the full Django stack, "
        f"database {connection.vendor}, python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    base = f"/w/bench/p/{project_id}/"
    project = Project.objects.get(public_id=project_id)
    bare_views(project.pk, project.workspace_id)
    page = measure(client, "gallery", base)
    bare_page = measure(client, "bare_gallery", "/bare/page/")
    card = measure(
        client, "running_card_fragment", f"/w/bench/g/{running}/card/", {"HTTP_HX_REQUEST": "true"}
    )
    bare_card = measure(client, "bare_running_card", f"/bare/card/{running}/", {"HTTP_HX_REQUEST": "true"})
    measure(
        client, "gallery_htmx_results", base, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gallery-results"}
    )
    measure(
        client,
        "filtered",
        base + "?status=failed&provider=dashscope",
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gallery-results"},
    )
    measure(
        client,
        "search",
        base + "?q=lantern+storm",
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gallery-results"},
    )
    measure(
        client,
        "deep_page",
        "/w/bench/gallery/?before="
        + Generation.objects.order_by("created_at", "id")[100].created_at.isoformat().replace("+", "%2B")
        + "~1",
        {"HTTP_HX_REQUEST": "true"},
    )
    newest = Generation.objects.order_by("-created_at", "-id").first()
    cursor = f"{newest.created_at.isoformat()}~{newest.pk}".replace("+", "%2B")
    measure(
        client,
        "news_check_nothing_new",
        f"/w/bench/g/news/?project={project_id}&after={cursor}",
        {"HTTP_HX_REQUEST": "true"},
    )
    versus("gallery", page, bare_page)
    versus("running_card", card, bare_card)


if __name__ == "__main__":
    main()
