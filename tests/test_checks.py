"""The many-hosts system checks: a bucket named but absent or unset, and the connection budget."""

from __future__ import annotations

from django.core.management import call_command

from studio import checks


def test_connection_budget_is_silent_until_set(settings):
    settings.STUDIO_DB_MAX_CONNECTIONS = 0
    settings.STUDIO_WORKERS, settings.WORKER_CONCURRENCY, settings.STUDIO_SWEEP_THREADS = 10, 10, 16
    assert checks.check_connection_budget(None) == []


def test_connection_budget_warns_with_the_count_when_workers_can_take_more(settings):
    settings.STUDIO_DB_MAX_CONNECTIONS = 60
    settings.STUDIO_WORKERS, settings.WORKER_CONCURRENCY, settings.STUDIO_SWEEP_THREADS = 2, 2, 16
    found = checks.check_connection_budget(None)
    assert [m.id for m in found] == ["studio.W003"]
    assert "may hold 68 database connections, more than STUDIO_DB_MAX_CONNECTIONS=60" in found[0].msg
    settings.STUDIO_SWEEP_THREADS = 4  # 2 x 2 x 5 = 20
    assert checks.check_connection_budget(None) == []


def test_s3_without_a_bucket_is_an_error_naming_the_setting(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": ""}},
    }
    found = checks.check_media_bucket(None)
    assert [m.id for m in found] == ["studio.E001"] and "STUDIO_S3_BUCKET" in found[0].msg


def test_local_media_need_no_bucket():
    assert checks.check_media_bucket(None) == []


def test_fernetkey_prints_a_key_the_studio_accepts(capsys):
    from cryptography.fernet import Fernet

    call_command("fernetkey")
    key = capsys.readouterr().out.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"sk-1")) == b"sk-1"


def test_a_shared_results_folder_must_exist_and_be_writable(settings, tmp_path):
    settings.STUDIO_RESULTS_DIR = str(tmp_path / "not-mounted")
    found = checks.check_results_dir(None)
    assert [m.id for m in found] == ["studio.E004"] and "STUDIO_RESULTS_DIR" in found[0].msg
    (tmp_path / "not-mounted").mkdir()
    assert checks.check_results_dir(None) == []
    settings.STUDIO_RESULTS_DIR = ""
    assert checks.check_results_dir(None) == []


def test_a_redis_broker_without_a_shared_cache_is_warned_about_at_deploy(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    found = checks.check_shared_cache(None)
    assert [m.id for m in found] == ["studio.W005"] and "STUDIO_CACHE_URL" in found[0].hint
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}
    }
    assert checks.check_shared_cache(None) == []
    settings.CELERY_BROKER_URL = "filesystem://localhost/"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert checks.check_shared_cache(None) == []  # the single-machine default is not warned about
