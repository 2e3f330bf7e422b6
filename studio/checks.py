"""System checks for a studio spread over many hosts (run by `manage.py check`, `migrate`, the release).

The storage ones (tag ``hosts``) also run when a web, worker or beat process starts (``refuse_to_start``):
a host whose bucket or shared folder is gone says so at once, not with a 500 or a failed job later.

- studio.E001: STUDIO_STORAGE=s3 without STUDIO_S3_BUCKET.
- studio.E002: the bucket cannot be reached or does not exist (the release stops here, not a 500 later).
- studio.W003: the workers' sweep threads may open more database connections than STUDIO_DB_MAX_CONNECTIONS.
- studio.E004: STUDIO_RESULTS_DIR (a shared volume for staged results) is missing or not writable.
- studio.W005 (deploy): Redis is the broker but the cache is each process's own memory.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

HOSTS = "hosts"


def refuse_to_start(process: str) -> None:
    """Raise ImproperlyConfigured naming what to fix when a storage check fails for this process."""
    from django.core.exceptions import ImproperlyConfigured

    found = [m for m in checks.run_checks(tags=[HOSTS]) if m.is_serious()]
    if found:
        lines = "\n".join(f"{m.id}: {m.msg} {m.hint or ''}".rstrip() for m in found)
        raise ImproperlyConfigured(f"The {process} cannot start:\n{lines}")


@checks.register(checks.Tags.compatibility, HOSTS)
def check_media_bucket(app_configs, **kwargs) -> list[checks.CheckMessage]:
    options = settings.STORAGES["default"].get("OPTIONS", {})
    if not settings.STORAGES["default"]["BACKEND"].startswith("storages.backends.s3"):
        return []
    bucket = options.get("bucket_name")
    if not bucket:
        return [
            checks.Error(
                "STUDIO_STORAGE is s3 but STUDIO_S3_BUCKET is empty.",
                hint="Set STUDIO_S3_BUCKET to a bucket that exists (the studio does not create it).",
                id="studio.E001",
            )
        ]
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = options.get("endpoint_url") or "AWS S3"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        region_name=options.get("region_name"),
        aws_access_key_id=options.get("access_key"),
        aws_secret_access_key=options.get("secret_key"),
        # A storage that is down fails the check in seconds, not after boto's minutes of retries.
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
    )
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        missing = code in ("404", "NoSuchBucket", "NotFound")
        return [
            checks.Error(
                f"The media bucket {bucket!r} does not exist at {endpoint}."
                if missing
                else f"The media bucket {bucket!r} at {endpoint} refused the studio's keys ({code}).",
                hint="Create the bucket first (docs/scaling.md, 'Media on S3'), or fix STUDIO_S3_BUCKET."
                if missing
                else "Check STUDIO_S3_ACCESS_KEY, STUDIO_S3_SECRET_KEY and STUDIO_S3_REGION.",
                id="studio.E002",
            )
        ]
    except (BotoCoreError, OSError) as exc:
        return [
            checks.Error(
                f"The media bucket {bucket!r} cannot be reached at {endpoint}: {exc}",
                hint="Check STUDIO_S3_ENDPOINT_URL and that the storage is up.",
                id="studio.E002",
            )
        ]
    return []


def worker_connections() -> int:
    """The database connections the workers may hold at once: every child's sweep threads, plus its own."""
    return settings.STUDIO_WORKERS * settings.WORKER_CONCURRENCY * (settings.STUDIO_SWEEP_THREADS + 1)


@checks.register(checks.Tags.database)
def check_connection_budget(app_configs, **kwargs) -> list[checks.CheckMessage]:
    budget = settings.STUDIO_DB_MAX_CONNECTIONS
    if not budget:
        return []
    need = worker_connections()
    if need <= budget:
        return []
    return [
        checks.Warning(
            f"{settings.STUDIO_WORKERS} workers x {settings.WORKER_CONCURRENCY} children x "
            f"({settings.STUDIO_SWEEP_THREADS} sweep threads + 1) may hold {need} database connections, "
            f"more than STUDIO_DB_MAX_CONNECTIONS={budget}.",
            hint="Lower STUDIO_SWEEP_THREADS or WORKER_CONCURRENCY, run fewer workers (STUDIO_WORKERS), "
            "or raise PostgreSQL's max_connections (docs/scaling.md, 'A connection budget').",
            id="studio.W003",
        )
    ]


@checks.register(checks.Tags.files, HOSTS)
def check_results_dir(app_configs, **kwargs) -> list[checks.CheckMessage]:
    folder = settings.STUDIO_RESULTS_DIR
    if not folder:
        return []
    import os

    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        return [
            checks.Error(
                f"STUDIO_RESULTS_DIR={folder} is not a folder this process can write.",
                hint="Mount the shared volume on every worker (and create the folder), or unset "
                "STUDIO_RESULTS_DIR to stage results in each worker's STUDIO_DATA_DIR/results.",
                id="studio.E004",
            )
        ]
    return []


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs) -> list[checks.CheckMessage]:
    scaled = settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    local = settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    if scaled and local:
        return [
            checks.Warning(
                "The broker is Redis but STUDIO_CACHE_URL is empty: every web process keeps its own cache, "
                "so the token throttles count per process.",
                hint="Set STUDIO_CACHE_URL to Redis (another database number than the broker's).",
                id="studio.W005",
            )
        ]
    return []
