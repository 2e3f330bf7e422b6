"""Retake the README's screenshots from a running studio: `python docs/screenshots/take.py URL USER PASSWORD`.

Pages are listed in SHOTS as (file name, path); paths may contain {workspace}.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
SHOTS = [("workspace.png", "/w/{workspace}/")]


def main(base: str, username: str, password: str, workspace: str = "demo") -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 720})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        for name, path in SHOTS:
            page.goto(base + path.format(workspace=workspace))
            page.screenshot(path=str(HERE / name))
            print("wrote", HERE / name)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
