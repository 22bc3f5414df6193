"""The viewer's files as the gateway serves them: media types, a strict policy, and ``/``
leading to the page."""

from __future__ import annotations

import pytest

from tests.integration.gateway.conftest import Gateway

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "media_type", "marker"),
    [
        ("/app/", "text/html", b"<title>ECG viewer</title>"),
        ("/app/viewer.js", "text/javascript", b"sessionStorage"),
        ("/app/viewer.css", "text/css", b"--accent"),
    ],
)
async def test_the_files_come_with_their_type_and_a_strict_policy(
    gateway: Gateway, path: str, media_type: str, marker: bytes
) -> None:
    response = await gateway.client.get(path)
    assert response.status == 200
    assert response.content_type == media_type
    assert marker in await response.read()
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_root_leads_to_the_viewer(gateway: Gateway) -> None:
    response = await gateway.client.get("/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/app/"
