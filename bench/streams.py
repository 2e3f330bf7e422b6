"""Stream mode of bench/load.py (``--streams N``): N open tabs each holding the gallery's event stream.

Same self-contained setup as the poll mode (temporary data dir, fresh SQLite or throwaway PostgreSQL,
--rows generations, one user), then the web process as `up` and the Procfile run it (gunicorn with uvicorn
workers serving ``studio.asgi``) on a free 127.0.0.1 port. N tabs (loopback only, at most MAX_STREAMS)
open the stream of the workspace and stay open. Then:
1. idle: --idle seconds with nothing changing; the server's CPU (gunicorn and its workers, /proc) per tab;
2. changes: --flips running rows, one every --flip-every seconds, are set to succeeded by a plain SQL
   UPDATE (and, with --redis-url, published on the live channel as a worker does); for every tab and
   every flip, the delay from the UPDATE's commit to that tab reading the card's event saying succeeded.
Stops by itself; prints ``name value unit`` lines. Without --redis-url each web process finds changes by
its once-a-second database check; with it, by Redis pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import load

MAX_STREAMS = 2000
CHANNEL = "studio:live"


def running_rows(database_url: str, count: int) -> list[tuple[int, str]]:
    query = "SELECT id, public_id FROM generations_generation WHERE status = 'running' ORDER BY id LIMIT %d"
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            return db.execute(query % count).fetchall()
    with load.psycopg.connect(database_url) as db:
        return db.execute(query % count).fetchall()


class Flipper:
    """Sets a row to succeeded the way the engine's transition does (status and updated_at at once)."""

    def __init__(self, database_url: str, redis_url: str):
        self.sqlite = database_url.startswith("sqlite:///")
        if self.sqlite:
            self.db = sqlite3.connect(
                database_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
            )
            self.db.execute("PRAGMA busy_timeout=20000")
        else:
            self.db = load.psycopg.connect(database_url, autocommit=True)
        self.redis = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url)

    def flip(self, pk: int) -> float:
        now = datetime.now(UTC)
        if self.sqlite:
            stamp = now.replace(tzinfo=None).isoformat(sep=" ")
            self.db.execute(
                "UPDATE generations_generation SET status='succeeded', progress=1.0, updated_at=?,"
                " finished_at=? WHERE id=?",
                (stamp, stamp, pk),
            )
        else:
            self.db.execute(
                "UPDATE generations_generation SET status='succeeded', progress=1.0, updated_at=%s,"
                " finished_at=%s WHERE id=%s",
                (now, now, pk),
            )
        committed = time.monotonic()
        if self.redis is not None:
            self.redis.publish(CHANNEL, str(pk))
        return committed


async def tab(client: httpx.AsyncClient, url: str, seen: dict, ready: asyncio.Event, counter: list) -> None:
    """One open gallery: read events, note when each card's event first says succeeded; reconnect with
    Last-Event-ID when the stream ends, as a browser does."""
    last_id, opened, mine = "", False, set()
    while True:
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise RuntimeError(f"stream answered {response.status_code}")
            name, data = "", []
            async for line in response.aiter_lines():
                if line.startswith("retry:") and not opened:
                    opened = True
                    counter[0] += 1
                    if counter[0] == counter[1]:
                        ready.set()
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("id:"):
                    last_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:])
                elif line == "":
                    done = any('data-status="succeeded"' in d for d in data)
                    if name.startswith("gen-") and done and name not in mine:
                        mine.add(name)
                        seen.setdefault(name[4:], []).append(time.monotonic())
                    name, data = "", []
        counter[2] += 1


def server_cpu(pid: int) -> float:
    """CPU seconds of gunicorn's master and its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]
    return sum(load.process_cpu(p) for p in pids)


async def drive(base: str, session: str, database_url: str, args) -> dict:
    url = f"{base}/w/{load.WORKSPACE}/g/live/"
    limits = httpx.Limits(max_connections=args.streams + 10, max_keepalive_connections=args.streams + 10)
    seen: dict[str, list[float]] = {}
    ready, counter = asyncio.Event(), [0, args.streams, 0]
    async with httpx.AsyncClient(
        cookies={"sessionid": session}, timeout=httpx.Timeout(60, connect=30), limits=limits, trust_env=False
    ) as client:
        started = time.monotonic()
        tasks = [asyncio.create_task(tab(client, url, seen, ready, counter)) for _ in range(args.streams)]
        try:
            await asyncio.wait_for(ready.wait(), timeout=120)
        except TimeoutError:
            raise SystemExit(f"only {counter[0]} of {args.streams} streams opened in 120 s") from None
        opened = time.monotonic() - started
        await asyncio.sleep(2)  # let the connections settle
        cpu0, t0 = server_cpu(args.server_pid), time.monotonic()
        await asyncio.sleep(args.idle)
        idle_cpu = (server_cpu(args.server_pid) - cpu0) / (time.monotonic() - t0)
        rows = running_rows(database_url, args.flips)
        flipper = Flipper(database_url, args.redis_url)
        committed: dict[str, float] = {}
        for pk, public_id in rows:
            committed[public_id] = await asyncio.to_thread(flipper.flip, pk)
            await asyncio.sleep(args.flip_every)
        await asyncio.sleep(5)  # stragglers
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    delays = [t - committed[pid] for pid, times in seen.items() if pid in committed for t in times]
    expected = len(committed) * args.streams
    return {
        "opened": opened,
        "idle_cpu": idle_cpu,
        "delays": delays,
        "expected": expected,
        "reconnects": counter[2],
    }


def run(database: str, server_url: str, args) -> None:
    if not 1 <= args.streams <= MAX_STREAMS:
        raise SystemExit(f"--streams must be between 1 and {MAX_STREAMS}")
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-streams-")))
        database_url = (
            stack.enter_context(load.throwaway_postgres(server_url))
            if server_url
            else f"sqlite:///{work / 'bench.sqlite3'}"
        )
        env = load.server_env(work, database_url)
        if args.redis_url:
            env["CELERY_BROKER_URL"] = args.redis_url
        load.prepare_in_child(env, args.rows)
        port = load.free_port()
        base = f"http://{load.LOOPBACK}:{port}"
        command = [sys.executable, "-m", "gunicorn", "studio.asgi:application"]
        command += ["--worker-class", "uvicorn_worker.UvicornWorker", "--bind", f"{load.LOOPBACK}:{port}"]
        command += ["--workers", str(args.workers), "--keep-alive", f"{args.keep_alive:g}"]
        command += ["--log-level", "warning", "--graceful-timeout", "10"]
        log = work / "web.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                command, cwd=load.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        stack.callback(load.stop, server)
        load.wait_until_up(server, base, log)
        session = load.login(base)
        args.server_pid = server.pid
        source = "Redis pub/sub" if args.redis_url else "a database check each second"
        print(
            f"# streams: {args.streams} open tabs on {database}, {args.workers} uvicorn workers in gunicorn,"
            f" changes by {source}; idle {args.idle:g} s, then {args.flips} running cards set to succeeded"
            f" one every {args.flip_every:g} s",
            flush=True,
        )
        result = asyncio.run(drive(base, session, database_url, args))
        delays = sorted(result["delays"])
        if len(delays) < result["expected"]:
            print(f"# web log (last lines):\n{log.read_text(errors='replace')[-3000:]}")
        print(f"streams_open {args.streams} tabs")
        print(f"streams_opened_in {result['opened']:.2f} s")
        print(f"idle_web_cpu {result['idle_cpu'] * 100:.2f} % of one core")
        print(f"idle_web_cpu_per_tab {result['idle_cpu'] * 1000 / args.streams:.3f} ms/s")
        print(f"card_changes_heard {len(delays)} of {result['expected']}")
        print(f"stream_reconnects {result['reconnects']}")
        if delays:
            p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
            print(f"card_change_p50 {statistics.median(delays):.3f} s")
            print(f"card_change_p95 {p95:.3f} s")
            print(f"card_change_max {delays[-1]:.3f} s")
        # The figure this replaces, from the poll cadence (not measured here): a card asked every 2 s
        # sees its row's change 0-2 s later plus one answer, so p95 about 1.9 s plus the answer's time,
        # at 1.75 requests a second per tab.
        print("card_change_p95_polls_before 1.9 s (+ one answer; cadence of the 2 s card poll)")
        print("requests_per_idle_tab_polls_before 1.75 /s (now 0, one heartbeat every 15 s)")
