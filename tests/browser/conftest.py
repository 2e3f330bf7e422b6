"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser).

Without /usr/bin/chromium these tests skip with one line, unless STUDIO_REQUIRE_BROWSER=1 (CI), which
turns the skip into a failure so a missing browser can never pass silently.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM):
        return
    if os.environ.get("STUDIO_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(
            f"STUDIO_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)."
        )
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found; install Debian's chromium to run browser tests")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}}
