"""The viewer page in headless Chromium (Debian's, driven by Playwright), with every outside
host unresolvable: log in with the keyboard, upload a JSON file, see it turn done live, open
it, and find its plot with one trace per lead and its R peaks; an ECG uploaded elsewhere
appears live, once; the admin gets the users page; and the page asks nothing of any host
but the gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ecg_client.readers import read_file
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import Api, Stack
from tests.e2e.test_docs_render import chromium

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
RECORD_100 = ROOT / "tests" / "data" / "mitdb" / "100.hea"


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ],
        )
        yield launched
        launched.close()


def record_100_json(path: Path, ecg_id: str, seconds: int = 10) -> Path:
    body = read_file(RECORD_100, ecg_id).model_dump(mode="json", exclude_none=True)
    for lead in body["leads"]:
        lead["signal"] = lead["signal"][: 360 * seconds]
    path.write_text(json.dumps(body))
    return path


def log_in_with_the_keyboard(page: Page, username: str, password: str) -> None:
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_a_user_uploads_watches_it_turn_done_and_opens_its_plot(
    stack: Stack, browser: Browser, unique: str, tmp_path: Path
) -> None:
    stack.start_gateway()
    stack.start("analyzer", "ecg_analyzer")
    api = Api(stack.base_url)
    api.create_user(api.token("admin", "adminpass"), f"viewer-{unique}", "viewer-password")
    upload = record_100_json(tmp_path / "record-100.json", "viewer-100")

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    answer = page.goto(f"{stack.base_url}/")
    assert answer is not None
    assert page.url == f"{stack.base_url}/app/"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy

    log_in_with_the_keyboard(page, f"viewer-{unique}", "viewer-password")
    expect(page.locator("#ecgs-view")).to_be_visible()
    expect(page.locator("#live")).to_contain_text("Live")
    assert page.evaluate("sessionStorage.length") == 1
    assert page.evaluate("document.cookie") == ""

    page.set_input_files("#upload-file", str(upload))
    page.get_by_role("button", name="Upload", exact=True).click()
    state = page.locator('tr[data-id="viewer-100"] .state')
    expect(state).to_have_text("done", timeout=60_000)

    page.get_by_role("button", name="Open ECG viewer-100").click()
    traces = page.locator("#plot svg path.trace")
    expect(traces).to_have_count(2)
    insights: dict[str, Any] = api.wait_done(
        api.token(f"viewer-{unique}", "viewer-password"), "viewer-100"
    )
    r_peaks = insights["insights"]["r_peaks"]
    expect(page.locator("#plot svg path.r-peak")).to_have_count(len(r_peaks))
    expect(page.locator("#summary-table")).to_contain_text("bpm")
    expect(page.locator("#leads-table")).to_contain_text("mV")
    page.screenshot(path=str(tmp_path / "viewer.png"), full_page=True)

    page.get_by_role("button", name="Back to the list").click()
    elsewhere = json.loads(upload.read_text()) | {"id": "from-elsewhere"}
    # MLII loses contact for 4 s: the viewer says so, and that V5 stood in.
    signal = elsewhere["leads"][0]["signal"]
    signal[3 * 360 : 7 * 360] = [signal[3 * 360]] * (4 * 360)
    sent = api.http.post(
        "/ecg/", json=elsewhere, headers=api.token(f"viewer-{unique}", "viewer-password")
    )
    assert sent.status_code == 202, sent.text
    expect(page.locator('tr[data-id="from-elsewhere"] .state')).to_have_text("done", timeout=60_000)
    expect(page.locator("#ecg-table tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Open ECG from-elsewhere").click()
    expect(page.locator("#leads-table")).to_contain_text("no QRS for 4.4 s (other leads used)")
    page.get_by_role("button", name="Back to the list").click()

    outside = [url for url in requested if not url.startswith(stack.base_url)]
    assert outside == [], f"the page asked other hosts: {outside}"

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{stack.base_url}/app/")
    log_in_with_the_keyboard(phone, f"viewer-{unique}", "viewer-password")
    expect(phone.locator('tr[data-id="viewer-100"]')).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "nothing overflows a phone-sized viewport sideways"
    )


def test_the_admin_gets_the_users_page(stack: Stack, browser: Browser, unique: str) -> None:
    stack.start_gateway()
    api = Api(stack.base_url)
    api.create_user(api.token("admin", "adminpass"), f"listed-{unique}", "listed-password")
    page = browser.new_page()
    page.goto(f"{stack.base_url}/app/")
    log_in_with_the_keyboard(page, "admin", "adminpass")
    expect(page.locator("#users-view")).to_be_visible()
    expect(page.locator("#ecgs-view")).to_be_hidden()
    expect(page.locator("#user-table")).to_contain_text(f"listed-{unique}")
    page.get_by_role("button", name=f"Disable listed-{unique}").click()
    row = page.locator("#user-table tr", has_text=f"listed-{unique}")
    expect(row).to_contain_text("disabled")
