"""The README's pictures, made by the headless Chromium the tests use: the plot of MIT-BIH
record 100's first 10 s (``GET /ecg/{id}/plot.svg``) and the viewer page with that ECG open.

It starts a gateway and an analyzer on the local services (``deploy/services.py``) with a
database and exchange of their own, uploads the whole 30-minute record as a user, and
writes ``docs/plot-100.png``, ``docs/plot-100.svg`` and ``docs/viewer.png``.

    uv run python docs/screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from ecg_client import EcgClient
from ecg_client.readers import read_file
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.local_stack import local_stack  # noqa: E402

DOCS = ROOT / "docs"
RECORD_100 = ROOT / "tests" / "data" / "mitdb" / "100.hea"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def main() -> None:
    with local_stack("screenshots") as stack:
        base, unique = stack.base_url, stack.unique
        with EcgClient(base) as admin:
            admin.login("admin", "adminpass")
            admin.create_user(f"clinician-{unique}", "clinician-password")
        with EcgClient(base) as user:
            user.login(f"clinician-{unique}", "clinician-password")
            user.upload(read_file(RECORD_100, "mitdb-100"))
            result = user.insights("mitdb-100", wait_s=120)
            print(
                f"record 100: {result.status}, {result.insights and result.insights.heart_rate_bpm} bpm"
            )
            token = user.token
        svg = httpx.get(
            f"{base}/ecg/mitdb-100/plot.svg",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        svg.raise_for_status()
        DOCS.mkdir(exist_ok=True)
        (DOCS / "plot-100.svg").write_bytes(svg.content)
        executable = next((path for path in CHROMIUM if Path(path).exists()), None)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
            )
            plot = browser.new_page(viewport={"width": 1000, "height": 400}, device_scale_factor=2)
            plot.goto((DOCS / "plot-100.svg").as_uri())
            plot.locator("svg").screenshot(path=str(DOCS / "plot-100.png"))

            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/app/")
            page.fill("#username", f"clinician-{unique}")
            page.fill("#password", "clinician-password")
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Open ECG mitdb-100").click()
            expect(page.locator("#plot svg path.trace")).to_have_count(2)
            page.screenshot(path=str(DOCS / "viewer.png"))
            browser.close()
        for name in ("plot-100.png", "plot-100.svg", "viewer.png"):
            print(f"wrote docs/{name} ({(DOCS / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
