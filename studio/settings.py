"""Settings for the studio: one module, production differs by environment values alone.

Defaults give a working single-machine studio: SQLite in ``var/``, an embedded Celery broker on the
filesystem, local media, and the offline ``local`` provider. Every name read here is in the README's
settings table.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from kombu import Queue

from studio.env import env, envbool, envfloat, envint, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env("STUDIO_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)  # an older one: tightened by studio/filemodes.py


def _generated_secret(filename: str, make) -> str:
    """A secret kept in DATA_DIR, made on first run, so a fresh install needs no setup."""
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


DEBUG = envbool("STUDIO_DEBUG", False)
SECRET_KEY = envsecret("STUDIO_SECRET_KEY") or _generated_secret(
    "secret_key.txt", lambda: secrets.token_urlsafe(50)
)
# Fernet keys for provider credentials at rest; the first encrypts, all decrypt (rotation: prepend).
STUDIO_SECRET_KEYS = [
    k.strip()
    for k in (
        envsecret("STUDIO_SECRET_KEYS")
        or _generated_secret("fernet_keys.txt", lambda: Fernet.generate_key().decode())
    ).split(",")
    if k.strip()
]
ALLOWED_HOSTS = envlist("STUDIO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("STUDIO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "axes",
    "studio.accounts",
    "studio.workspaces",
    "studio.projects",
    "studio.prompts",
    "studio.assets",
    "studio.providers",
    "studio.generations",
    "studio.sharing",
    "studio.storyboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "studio.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "studio.logs.AccessLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lock found while logging in into the lockout page
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

_loaders = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.workspaces.context.workspaces",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [("django.template.loaders.cached.Loader", _loaders)] if not DEBUG else _loaders,
                )
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# Widgets render through the project's templates, so templates/django/forms/ can override them.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Connections: each web thread and each sweep thread (STUDIO_SWEEP_THREADS, per worker child) keeps one open
# for up to STUDIO_DB_CONN_MAX_AGE seconds; docs/scaling.md counts them ("A connection budget").
STUDIO_DB_CONN_MAX_AGE = envint("STUDIO_DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"), conn_max_age=STUDIO_DB_CONN_MAX_AGE
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while the worker writes; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # A file, not memory: live-server threads and worker processes in the tests share it. One per test
    # run (by process id), so two runs on one machine never share a test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The connections the workers may hold in all (PostgreSQL's max_connections less what web and others use),
# the worker processes the deployment runs and the children each runs (the Procfile's --concurrency): a
# check (studio.W003) warns when workers x children x (sweep threads + 1) is more. 0: not checked.
STUDIO_DB_MAX_CONNECTIONS = envint("STUDIO_DB_MAX_CONNECTIONS", 0, minimum=0)
STUDIO_WORKERS = envint("STUDIO_WORKERS", 1, minimum=1)
WORKER_CONCURRENCY = envint("WORKER_CONCURRENCY", 2, minimum=1)

# Django's cache. LocMem is per process: with several web processes or machines, point STUDIO_CACHE_URL at
# Redis so they share it. (The lock against guessing is django-axes', in the database: see AXES_* below.)
_cache_url = env("STUDIO_CACHE_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "studio"}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One lock against guessing on every door (studio/security.py): failures counted in the database by the
# username as Django reads it and by address; 10 either way, then 15 minutes from the latest try.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = "studio.security.lockout_parameters"
AXES_USERNAME_CALLABLE = "studio.security.axes_username"
AXES_CLIENT_IP_CALLABLE = "studio.security.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "studio.security.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # the access log and studio.security's lockout line say enough
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Built by the release (collectstatic) into the code's own tree, not a host's data directory: every host
# that runs this release serves the same files, whatever its STUDIO_DATA_DIR.
STATIC_ROOT = Path(env("STUDIO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))).resolve()
with contextlib.suppress(OSError):  # a read-only code tree: the release made it, or WhiteNoise says so
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request while it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("STUDIO_MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: the media view checks access first

if env("STUDIO_STORAGE", "local") == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("STUDIO_S3_BUCKET"),
            "endpoint_url": env("STUDIO_S3_ENDPOINT_URL") or None,
            "access_key": envsecret("STUDIO_S3_ACCESS_KEY") or None,
            "secret_key": envsecret("STUDIO_S3_SECRET_KEY") or None,
            "region_name": env("STUDIO_S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
            # Media are handed out as presigned links this short-lived (studio/assets/serving.py).
            "querystring_expire": envint("STUDIO_S3_URL_SECONDS", 600, minimum=1),
            "file_overwrite": True,
        },
    }
    # The pages' Content-Security-Policy lets the browser load media from there (studio/security.py).
    _endpoint = urlsplit(env("STUDIO_S3_ENDPOINT_URL"))
    STUDIO_MEDIA_ORIGIN = (
        f"{_endpoint.scheme}://{_endpoint.netloc}" if _endpoint.netloc else "https://*.amazonaws.com"
    )
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    STUDIO_MEDIA_ORIGIN = ""
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "studio.staticfiles.StaticFilesStorage"
    },
}
# Uploads larger than this are streamed to a temporary file rather than kept in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# First, a handler that refuses a body larger than its view takes before reading it (studio/assets/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "studio.assets.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Media are the studio's own: no other account on the machine reads them. A proxy that serves them itself
# (STUDIO_ACCEL_REDIRECT_PREFIX) as another user in the studio's group needs them group-readable.
STUDIO_MEDIA_GROUP_READABLE = envbool("STUDIO_MEDIA_GROUP_READABLE", False)
FILE_UPLOAD_PERMISSIONS = 0o640 if STUDIO_MEDIA_GROUP_READABLE else 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750 if STUDIO_MEDIA_GROUP_READABLE else 0o700

# Security: on by default where it costs nothing, HTTPS-only parts behind STUDIO_SECURE.
STUDIO_SECURE = envbool("STUDIO_SECURE", False)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default
SESSION_COOKIE_SECURE = STUDIO_SECURE
CSRF_COOKIE_SECURE = STUDIO_SECURE
SECURE_SSL_REDIRECT = STUDIO_SECURE
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if STUDIO_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = STUDIO_SECURE
SECURE_HSTS_PRELOAD = STUDIO_SECURE
STUDIO_BEHIND_PROXY = envbool(
    "STUDIO_BEHIND_PROXY", False
)  # also: throttles count X-Forwarded-For's last hop
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if STUDIO_BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Celery: the broker only nudges; the database is the truth (see docs/design.md).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT = "studio.broker:Transport"  # kombu's, with whole-message writes
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
elif CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "studio.broker:RedisTransport"  # kombu's, surviving a Redis restart
CELERY_TASK_IGNORE_RESULT = True
# The sweeper's ticks have a queue of their own, which every worker consumes beside the nudges': a burst
# of new jobs (one nudge each) must not hold back the polls and downloads of jobs already paid for.
CELERY_TASK_QUEUES = (Queue("sweep"), Queue("celery"))
CELERY_TASK_ROUTES = {"studio.generations.tasks.sweep_task": {"queue": "sweep"}}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
STUDIO_SWEEP_SECONDS = envfloat("STUDIO_SWEEP_SECONDS", 2.0)
# Vendor calls in flight at once per worker child; each thread holds one database connection.
STUDIO_SWEEP_THREADS = envint("STUDIO_SWEEP_THREADS", 16, minimum=1)
# How long a worker holds a job it polls or downloads: after a crash, how long the job waits for another.
STUDIO_POLL_LEASE_SECONDS = envint("STUDIO_POLL_LEASE_SECONDS", 300, minimum=10)
# Results fetched at once per worker child, beside the sweep's threads (a sweep never waits on a download).
STUDIO_DOWNLOAD_THREADS = envint("STUDIO_DOWNLOAD_THREADS", 16, minimum=1)
# Seconds one status call takes, database work included: with STUDIO_SWEEP_THREADS it sets how many polls
# polling by a kind's history books for any one second (eta.py), until a busy sweep has measured fewer.
STUDIO_POLL_CALL_SECONDS = envfloat("STUDIO_POLL_CALL_SECONDS", 0.1)
# Where a fetched result waits until storage has it (a vendor URL may work once): empty is the worker's own
# STUDIO_DATA_DIR/results; a volume every worker mounts lets the one that takes a job over find it.
STUDIO_RESULTS_DIR = env("STUDIO_RESULTS_DIR")
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "studio.generations.tasks.sweep_task",
        "schedule": STUDIO_SWEEP_SECONDS,
        "options": {"expires": STUDIO_SWEEP_SECONDS * 3},  # a late tick is useless; the next one comes
    },
    # Files nothing uses (left by refused forms) go after a day (studio/assets/cleanup.py).
    "assets-sweep": {
        "task": "studio.assets.tasks.sweep_unused_assets_task",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
    "storyboard-chains": {
        "task": "studio.storyboards.tasks.advance_chains_task",
        "schedule": STUDIO_SWEEP_SECONDS,
    },
}

# Outbound fetches and media.
STUDIO_FETCH_ALLOW_PRIVATE = envbool("STUDIO_FETCH_ALLOW_PRIVATE", False)
STUDIO_FETCH_MAX_BYTES = envint("STUDIO_FETCH_MAX_BYTES", 500 * 1024 * 1024, minimum=1)
STUDIO_PUBLIC_BASE_URL = env("STUDIO_PUBLIC_BASE_URL").rstrip("/")
STUDIO_ACCEL_REDIRECT_PREFIX = env("STUDIO_ACCEL_REDIRECT_PREFIX")

# Providers, configured like STORAGES: a backend and its options, built from the environment.
STUDIO_PROVIDERS = {
    "local": {"BACKEND": "studio.providers.local.adapter.LocalProvider", "OPTIONS": {}},
    "siliconflow": {
        "BACKEND": "studio.providers.siliconflow.adapter.SiliconFlowProvider",
        "OPTIONS": {
            "base_url": env("SILICONFLOW_BASE_URL", "https://api.siliconflow.cn/v1"),
            "api_key": envsecret("SILICONFLOW_API_KEY"),
        },
    },
    "dashscope": {
        "BACKEND": "studio.providers.dashscope.adapter.DashScopeProvider",
        "OPTIONS": {
            "base_url": env("DASHSCOPE_BASE_URL", "https://dashscope.aliyuncs.com/api/v1"),
            "api_key": envsecret("DASHSCOPE_API_KEY"),
        },
    },
    "jiekou": {
        "BACKEND": "studio.providers.jiekou.adapter.JiekouProvider",
        "OPTIONS": {
            "base_url": env("JIEKOU_BASE_URL", "https://api.jiekou.ai"),
            "api_key": envsecret("JIEKOU_API_KEY"),
        },
    },
}
STUDIO_PROVIDER_TIMEOUT = envfloat("STUDIO_PROVIDER_TIMEOUT", 30.0)
# Estimated prices for the monthly spend and budgets: provider:model=AMOUNT/video or /s (studio/providers/pricing.py).
STUDIO_PRICES = envlist("STUDIO_PRICES")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"server_errors_only": {"()": "studio.logs.QuietClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("STUDIO_LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "ERROR"},  # a line per failure; studio.security logs each lockout once
        # 4xx answers are one access-log line each (studio.logs.AccessLogMiddleware), never a traceback.
        "django.request": {"filters": ["server_errors_only"]},
    },
}
