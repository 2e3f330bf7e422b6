"""The vendors' rate limits as token buckets every worker shares: on the database and on Redis."""

import threading
import time

import pytest

from studio.providers import buckets
from studio.providers.buckets import Rate
from studio.providers.models import RateBucket


@pytest.fixture
def redis_url():
    import redis

    url = "redis://127.0.0.1:6379/12"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    for key in client.scan_iter("studio:bucket:*"):
        client.delete(key)
    return url


@pytest.fixture(params=["database", "redis"])
def take(request, settings):
    """``take(key, rate)`` through one backend (the broker's URL picks it, as in production)."""
    if request.param == "redis":
        settings.CELERY_BROKER_URL = request.getfixturevalue("redis_url")
    else:
        settings.CELERY_BROKER_URL = "filesystem://"
    return buckets.take


def test_at_most_n_a_second_is_one_saved_token_and_n_minus_one_a_second():
    assert Rate.at_most(20) == Rate(per_second=19, burst=1.0) and Rate.at_most(20).capacity == 1.0
    assert Rate(5).capacity == 5.0  # a plain rate saves one second's worth


@pytest.mark.django_db
def test_a_full_bucket_gives_its_tokens_then_says_how_long_to_wait(take):
    rate = Rate(per_second=4)
    assert [take("t:a", rate) for _ in range(4)] == [0.0] * 4
    wait = take("t:a", rate)
    assert 0.15 < wait <= 0.25  # a quarter second for the next token
    assert take("t:b", rate) == 0.0  # another account's bucket is its own
    time.sleep(wait + 0.02)
    assert take("t:a", rate) == 0.0


@pytest.mark.django_db
def test_the_database_bucket_is_one_row_that_names_no_key():
    key = buckets.account("dashscope", "sk-secret-key")
    assert "secret" not in key and len(key) == 20
    assert buckets.account("dashscope", "sk-other") != key
    buckets._take_database(f"dashscope:poll:{key}", Rate.at_most(20))
    [row] = RateBucket.objects.all()
    assert row.key == f"dashscope:poll:{key}" and row.tokens == 0.0


@pytest.mark.django_db(transaction=True)
def test_threads_sharing_a_bucket_never_pass_its_limit_in_any_second(take):
    """Eight threads (as workers would) take as fast as they can for 1.5 s from one bucket of at most
    10 a second: in no window of (a little under) a second did more than 10 calls go through."""
    from django.db import connection

    rate, granted, lock = Rate.at_most(10), [], threading.Lock()
    stop = time.monotonic() + 1.5

    def worker():
        try:
            while time.monotonic() < stop:
                if take("t:shared", rate) == 0.0:
                    with lock:
                        granted.append(time.monotonic())
                else:
                    time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted.sort()
    # Windows a little under a second, for the moments between the bucket's grant and its thread's clock.
    busiest = max(sum(1 for g in granted if start <= g < start + 0.95) for start in granted)
    assert busiest <= 10, granted
    assert len(granted) >= 10  # and the limit is used, not starved
