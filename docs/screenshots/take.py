"""Retake the README's screenshots from a running studio that has a few finished videos:

python docs/screenshots/take.py URL USER PASSWORD [WORKSPACE]
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent


def main(base: str, username: str, password: str, workspace: str = "demo") -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{base}/w/{workspace}/")
        page.screenshot(path=str(HERE / "workspace.png"))
        page.locator(".project-card a").first.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(HERE / "project.png"))
        page.locator("a.gcard-media").first.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(HERE / "detail.png"))
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
