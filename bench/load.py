"""Open gallery tabs against a real gunicorn: throughput and latency of the page and the htmx polls.

Each run is self-contained: a temporary data dir, a fresh database (a SQLite file there, or a throwaway
PostgreSQL database ``bench_load_<pid>`` made beside the one --database-url names, dropped afterwards),
migrate, collectstatic and --rows generations in one project of one workspace (one in ten running, the
rest done or failed), one user. Then ``gunicorn studio.wsgi`` starts on a free 127.0.0.1 port with DEBUG
off, the bench logs in once through the real login form, and reads the project page the way a browser
would: which running cards poll their fragment (hx-trigger "every 2s") and the "anything new" poller
(hx-trigger "every 4s").

Load model, a closed loop: --clients tabs, each with its own keep-alive connection, cycle through one
browser period of polls (every running card twice, "anything new" once) back to back, sending the next
request as soon as the previous one answers (plus --think seconds); every --page-every-th request is a
full page load instead. So the figures are what the server gives with that many requests outstanding, not
a browser's pace: a tab showing k running cards asks k/2 + 1/4 polls a second. Only 127.0.0.1 is asked.

Prints the conditions, then ``name value unit`` lines per endpoint and overall: requests, throughput
(2xx answers a second), p50/p95/p99 latency of the 2xx answers, errors (any other status or an exception,
each kind shown), and requests resent once, as a browser does, after a reset keep-alive connection; then
how the machine's CPU was shared during the load (Linux /proc): the server, the load (this process, on
the same cores) and every other process; then a table. --both runs SQLite, then PostgreSQL (skipped,
saying so, if unreachable).

    .venv/bin/python bench/load.py [--clients 50] [--duration 20] [--rows 2000] [--workers 2] [--threads 4]
        [--keep-alive 5] [--think 0] [--page-every 20] [--both]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]
    .venv/bin/python bench/load.py --streams 1000 [--idle 10] [--flips 20] [--redis-url redis://127.0.0.1:6379/11]
        (stream mode: tabs holding the gallery's event stream; see bench/streams.py)
"""

from __future__ import annotations

import argparse
import contextlib
import html
import itertools
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOOPBACK = "127.0.0.1"
MAX_CLIENTS = 200  # loopback only, bounded
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
USERNAME, PASSWORD = "bench", "bench-password-1"
WORKSPACE = "bench"
WORDS = ("lighthouse", "forest", "city", "river", "neon", "fox", "lantern", "desert", "ocean", "storm")
CARD_POLL = re.compile(r'hx-get="([^"]+/card/)"')
NEWS_POLL = re.compile(r'id="gallery-news"[^>]*?hx-get="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ENDPOINTS = ("gallery_page", "running_card", "news_poll")
# auto_now_add gives every seeded row the same time: spread them one second apart, oldest first.
SPREAD = {
    "postgresql": "UPDATE generations_generation"
    " SET created_at = created_at - (%s - id) * INTERVAL '1 second'",
    "sqlite": "UPDATE generations_generation"
    " SET created_at = datetime(created_at, '-' || (%s - id) || ' seconds')",
}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help=f"concurrent tabs, 1 to {MAX_CLIENTS}")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--rows", type=int, default=2000, help="generations to seed")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--keep-alive", type=float, default=5.0, help="gunicorn's idle connection seconds (as `up` runs it)"
    )
    parser.add_argument("--think", type=float, default=0.0, help="seconds a client waits after each answer")
    parser.add_argument("--page-every", type=int, default=20, help="every Nth request is a full page load")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server to make a throwaway db on")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    stream = parser.add_argument_group("stream mode (bench/streams.py)")
    stream.add_argument("--streams", type=int, default=0, help="open tabs holding the event stream")
    stream.add_argument("--idle", type=float, default=10.0, help="seconds idle, for CPU per open tab")
    stream.add_argument("--flips", type=int, default=20, help="running cards set to succeeded")
    stream.add_argument("--flip-every", type=float, default=0.5, help="seconds between two of them")
    stream.add_argument("--redis-url", default="", help="Redis as the broker: changes by pub/sub")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if min(args.duration, args.rows, args.workers, args.threads, args.page_every) <= 0:
        parser.error("--duration, --rows, --workers, --threads and --page-every must be positive")
    if min(args.think, args.keep_alive) < 0:
        parser.error("--think and --keep-alive cannot be negative")
    if args.database_url and urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
    if args.database_url and urlsplit(args.database_url).hostname != LOOPBACK:
        parser.error(f"--database-url: this bench only talks to {LOOPBACK}")
    return args


# Database ------------------------------------------------------------------------------------------


class PostgresUnreachable(Exception):
    pass


def maintenance_url(server_url: str) -> str:
    """The server's ``postgres`` database, from which the throwaway one is made and dropped."""
    return urlunsplit(urlsplit(server_url)._replace(path="/postgres"))


def run_admin(server_url: str, statement: sql.Composable) -> None:
    try:
        with psycopg.connect(maintenance_url(server_url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)
    except psycopg.OperationalError as exc:
        raise PostgresUnreachable(" ".join(str(exc).split())) from exc


@contextlib.contextmanager
def throwaway_postgres(server_url: str) -> Iterator[str]:
    """Yield the URL of a new database on ``server_url``'s server; drop it afterwards."""
    name = f"bench_load_{os.getpid()}"
    run_admin(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        run_admin(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_env(work: Path, database_url: str) -> dict[str, str]:
    """This environment without any studio setting, plus the run's own."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_") and k != "DATABASE_URL"}
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": database_url,
        "STUDIO_DATA_DIR": str(work / "data"),
        "STUDIO_MEDIA_ROOT": str(work / "media"),
        "STUDIO_SECRET_KEY": "bench-load-throwaway-" + os.urandom(16).hex(),
        "STUDIO_ALLOWED_HOSTS": LOOPBACK,
        "STUDIO_DEBUG": "false",
        "STUDIO_LOG_LEVEL": "WARNING",
    }


def prepare(env: dict[str, str], rows: int) -> str:
    """Migrate, collect static files (the manifest the pages need) and seed; return the project page path.

    Runs in a fresh interpreter: Django's settings are fixed per process, and each run has its own database.
    """
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return seed(rows)


def seed(rows: int) -> str:
    """One user owning one workspace; ``rows`` generations a second apart, 9 in 10 in one project."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from studio.generations.models import Generation
    from studio.projects.models import Project
    from studio.prompts.models import Prompt
    from studio.workspaces.models import Membership, Workspace

    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    workspace = Workspace.objects.create(slug=WORKSPACE, name="Bench")
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    project = Project.objects.create(workspace=workspace, name="Big project")
    other = Project.objects.create(workspace=workspace, name="Other")
    rng = random.Random(7)
    prompts = Prompt.objects.bulk_create(
        Prompt(workspace=workspace, project=project, author=user, text=" ".join(rng.choices(WORDS, k=12)))
        for _ in range(rows)
    )
    status = {5: Generation.Status.RUNNING, 9: Generation.Status.FAILED}
    Generation.objects.bulk_create(
        (
            Generation(
                workspace=workspace,
                project=project if i % 10 else other,
                prompt=prompt,
                created_by=user,
                provider=rng.choice(["local", "siliconflow", "dashscope", "jiekou"]),
                model="m",
                task="t2v",
                status=status.get(i % 10, Generation.Status.SUCCEEDED),
                progress=0.4 if i % 10 == 5 else None,
                size="1280x720",
                duration=5,
            )
            for i, prompt in enumerate(prompts)
        ),
        batch_size=1000,
    )
    with connection.cursor() as cur:
        cur.execute(SPREAD[connection.vendor], [rows])
    return f"/w/{WORKSPACE}/p/{project.public_id}/"


def prepare_in_child(env: dict[str, str], rows: int) -> str:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(prepare, env, rows).result()


# Server --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def refuse_other_hosts(request: httpx.Request) -> None:
    if request.url.host != LOOPBACK:
        raise RuntimeError(f"refusing {request.url}: this bench only talks to {LOOPBACK}")


def http_client(base: str, session: str = "") -> httpx.Client:
    return httpx.Client(
        base_url=base,
        cookies={"sessionid": session} if session else None,
        timeout=30.0,
        trust_env=False,  # no proxy from the environment, ever
        event_hooks={"request": [refuse_other_hosts]},
    )


def wait_until_up(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    with http_client(base) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(
                    f"gunicorn exited with {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
                )
            with contextlib.suppress(httpx.TransportError):
                if client.get("/accounts/login/").status_code == 200:
                    return
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL to the whole group: nothing may outlive the bench."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Server:
    base: str
    pid: int  # gunicorn's master; its workers are its children


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path, args: argparse.Namespace) -> Iterator[Server]:
    """Yield a running ``gunicorn studio.wsgi``; stop it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"{LOOPBACK}:{port}"]
    command += ["--workers", str(args.workers), "--threads", str(args.threads)]
    command += ["--keep-alive", f"{args.keep_alive:g}", "--log-level", "warning"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://{LOOPBACK}:{port}"
        wait_until_up(server, base, log)
        yield Server(base, server.pid)
    finally:
        stop(server)


def login(base: str) -> str:
    """Log in once through the real form (CSRF token included); return the session cookie."""
    with http_client(base) as client:
        form = client.get("/accounts/login/")
        token = CSRF_FIELD.search(form.text)
        if token is None:
            raise SystemExit(f"no CSRF token on the login page (HTTP {form.status_code})")
        answer = client.post(
            "/accounts/login/",
            data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        )
        session = client.cookies.get("sessionid")
        if answer.status_code != 302 or not session:
            raise SystemExit(f"login failed: HTTP {answer.status_code}")
        return session


# Load ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Get:
    """One GET a tab makes: which endpoint it counts for, the path, the headers htmx sends."""

    endpoint: str
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Tab:
    """What one open project page asks for: the page itself and its pollers, read from its HTML."""

    page: Get
    cards: tuple[Get, ...]
    news: Get

    def period(self) -> list[Get]:
        """One 4 s browser period: each running card polls twice (every 2 s), "anything new" once."""
        return [*self.cards, *self.cards, self.news]


def read_tab(base: str, session: str, page: str) -> Tab:
    with http_client(base, session) as client:
        answer = client.get(page)
    news = NEWS_POLL.search(answer.text)
    if answer.status_code != 200 or news is None:
        raise SystemExit(f"the project page did not show the gallery (HTTP {answer.status_code})")
    cards = tuple(dict.fromkeys(html.unescape(url) for url in CARD_POLL.findall(answer.text)))
    return Tab(
        page=Get("gallery_page", page, {}),
        cards=tuple(
            Get("running_card", url, {"HX-Request": "true", "HX-Current-URL": base + page}) for url in cards
        ),
        news=Get(
            "news_poll",
            html.unescape(news.group(1)),
            {"HX-Request": "true", "HX-Target": "gallery-news", "HX-Current-URL": base + page},
        ),
    )


@dataclass(frozen=True)
class Sample:
    endpoint: str
    ms: float
    error: str  # "" for a 2xx answer
    resent: bool


def timed(client: httpx.Client, get: Get) -> Sample:
    """Send ``get`` and time it, sending it again once if the connection was reset before any answer.

    gunicorn closes a kept-alive connection once it has been idle for --keep-alive (5 s by default); a
    request that crosses the close is reset unanswered. Browsers send such a request again, once, on a new
    connection, and so does this; the count is reported ("resent"), a second failure is an error.
    """
    start, resent = time.perf_counter(), False
    try:
        try:
            answer = client.get(get.url, headers=get.headers)
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            resent = True
            answer = client.get(get.url, headers=get.headers)
    except Exception as exc:  # every failure is counted and shown, never dropped
        error = type(exc).__name__
    else:
        error = "" if answer.is_success else f"HTTP {answer.status_code}"
    return Sample(get.endpoint, (time.perf_counter() - start) * 1000, error, resent)


def tab_loop(
    index: int, tab: Tab, base: str, session: str, args: argparse.Namespace, deadline: float
) -> list[Sample]:
    """One client: its polls back to back until the deadline, a page load every --page-every-th request.

    Clients start at different points of the period and of the page cycle, so they do not move in step.
    """
    period = tab.period()
    polls = itertools.islice(itertools.cycle(period), index % len(period), None)
    samples: list[Sample] = []
    n = index
    with http_client(base, session) as client:
        while time.perf_counter() < deadline:
            request = tab.page if n % args.page_every == args.page_every - 1 else next(polls)
            samples.append(timed(client, request))
            n += 1
            if args.think:
                time.sleep(args.think)
    return samples


# CPU -----------------------------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (Linux /proc: utime + stime); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """Busy CPU seconds of all cores together (/proc/stat: all but idle and iowait)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def processes(server: Server, database_url: str) -> dict[str, list[int]]:
    """Who serves (gunicorn and its workers; on PostgreSQL the backends of the bench's database, too;
    SQLite runs inside the workers) and who loads (this process)."""
    workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    found = {"server": [server.pid, *map(int, workers)], "load": [os.getpid()]}
    if database_url.startswith("postgres"):
        name = urlsplit(database_url).path.lstrip("/")
        with psycopg.connect(maintenance_url(database_url), autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
        found["database"] = [pid for (pid,) in rows]
    return found


@dataclass(frozen=True)
class Cpu:
    """CPU seconds so far: the machine's, and each watched process's by group."""

    machine: float
    groups: dict[str, dict[int, float]]

    @classmethod
    def now(cls, groups: dict[str, list[int]]) -> Cpu:
        return cls(
            machine_cpu(), {name: {pid: process_cpu(pid) for pid in pids} for name, pids in groups.items()}
        )

    def shares_since(self, start: Cpu, seconds: float) -> dict[str, float]:
        """Each group's share of the machine (0..1), and "other": every process not watched."""
        used = {
            name: sum(cpu - start.groups[name].get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in self.groups.items()
        }
        used["other"] = max(0.0, self.machine - start.machine - sum(used.values()))
        capacity = seconds * (os.cpu_count() or 1)
        return {name: cpu / capacity for name, cpu in used.items()}


@dataclass(frozen=True)
class Load:
    samples: list[Sample]
    seconds: float
    cpu: dict[str, float]  # share of the machine by whom, 0..1


def run_load(tab: Tab, server: Server, session: str, database_url: str, args: argparse.Namespace) -> Load:
    results: list[list[Sample]] = [[] for _ in range(args.clients)]

    def client(index: int) -> None:
        results[index] = tab_loop(index, tab, server.base, session, args, deadline)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    cpu, start = Cpu.now(processes(server, database_url)), time.perf_counter()
    deadline = start + args.duration
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    shares = Cpu.now(processes(server, database_url)).shares_since(cpu, seconds)
    return Load([s for batch in results for s in batch], seconds, shares)


# Report --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    endpoint: str
    requests: int
    throughput: float
    p50: float
    p95: float
    p99: float
    errors: int
    resent: int


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 (NaN when there is nothing to measure)."""
    if len(values) < 2:
        return (values[0] if values else math.nan,) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def stats(endpoint: str, samples: list[Sample], seconds: float) -> Stats:
    ok = [s.ms for s in samples if not s.error]
    resent = sum(s.resent for s in samples)
    return Stats(endpoint, len(samples), len(ok) / seconds, *percentiles(ok), len(samples) - len(ok), resent)


@dataclass(frozen=True)
class Result:
    database: str
    rows: list[Stats]


def report(database: str, load: Load) -> Result:
    rows = [stats(e, [s for s in load.samples if s.endpoint == e], load.seconds) for e in ENDPOINTS]
    rows.append(stats("all", load.samples, load.seconds))
    for row in rows:
        name = f"{database}_{row.endpoint}"
        print(f"{name}_requests {row.requests} requests")
        print(f"{name}_throughput {row.throughput:.1f} req/s")
        for label, value in (("p50", row.p50), ("p95", row.p95), ("p99", row.p99)):
            print(f"{name}_{label} {value:.1f} ms")
        print(f"{name}_errors {row.errors} errors")
        print(f"{name}_resent {row.resent} requests")
    for who, share in load.cpu.items():
        print(f"{database}_cpu_{who} {100 * share:.0f} % of the machine")
    for (endpoint, error), count in sorted(
        Counter((s.endpoint, s.error) for s in load.samples if s.error).items()
    ):
        print(f"# {database} error: {endpoint} {error} x {count}")
    return Result(database, rows)


def print_table(results: list[Result]) -> None:
    header = ("database", "endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "resent")
    lines = [header] + [
        (
            r.database,
            s.endpoint,
            str(s.requests),
            f"{s.throughput:.1f}",
            f"{s.p50:.1f}",
            f"{s.p95:.1f}",
            f"{s.p99:.1f}",
            str(s.errors),
            str(s.resent),
        )
        for r in results
        for s in r.rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print(
            "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )


# Runs ----------------------------------------------------------------------------------------------


def conditions(database: str, tab: Tab, args: argparse.Namespace) -> str:
    k = len(tab.cards)
    return (
        f"# {database}: {args.rows} generations, 1 workspace, 1 user; "
        f"gunicorn studio.wsgi {args.workers} workers x {args.threads} threads, "
        f"keep-alive {args.keep_alive:g} s, DEBUG off; "
        f"{args.clients} clients, closed loop, think {args.think:g} s, {args.duration:g} s; "
        f"each tab polls {k} running cards (every 2 s) and 'anything new' (every 4 s), "
        f"{k / 2 + 0.25:g} polls/s at browser pace; a full page every {args.page_every}th request; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores shared by server, load and all else"
    )


def run(database: str, server_url: str, args: argparse.Namespace) -> Result:
    """One self-contained run: database, seed, gunicorn, login, load, report; everything undone after."""
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        database_url = (
            stack.enter_context(throwaway_postgres(server_url))
            if server_url
            else f"sqlite:///{work / 'bench.sqlite3'}"
        )
        env = server_env(work, database_url)
        page = prepare_in_child(env, args.rows)
        log = work / "gunicorn.log"
        server = stack.enter_context(gunicorn(env, log, args))
        session = login(server.base)
        tab = read_tab(server.base, session, page)
        print(conditions(database, tab, args), flush=True)
        result = report(database, run_load(tab, server, session, database_url, args))
        if any(s.errors for s in result.rows):
            print(f"# {database} server log (last lines):\n{log.read_text(errors='replace')[-3000:]}")
        return result


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    args = parse()
    signal.signal(signal.SIGTERM, interrupt)  # `timeout`, a CI runner: clean up as on Ctrl-C
    if args.streams:
        import streams

        if args.redis_url and urlsplit(args.redis_url).hostname != LOOPBACK:
            raise SystemExit(f"--redis-url: this bench only talks to {LOOPBACK}")
        streams.run("postgresql" if args.database_url else "sqlite", args.database_url, args)
        return
    results = []
    if args.both or not args.database_url:
        results.append(run("sqlite", "", args))
    if args.both or args.database_url:
        try:
            results.append(run("postgresql", args.database_url or DEFAULT_POSTGRES, args))
        except PostgresUnreachable as exc:
            if not args.both:
                raise SystemExit(f"PostgreSQL unreachable: {exc}") from exc
            print(f"# postgresql: unreachable ({exc}); SQLite only")
    print_table(results)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: the server is stopped, the temporary files and database removed")
