"""Every integration test runs under blockbuster: a call that blocks the event loop fails it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any test in which something blocks the event loop (aiohttp's own practice)."""
    with blockbuster_ctx() as detector:
        # Once at start-up, not per request: PyMongo looks for /.dockerenv when a client is
        # built, aiohttp resolves the Swagger UI folder when the static route is added.
        detector.functions["os.stat"].can_block_in(
            "pymongo/pool_options.py", "get_container_env_info"
        )
        for function in ("os.path.abspath", "os.stat"):
            detector.functions[function].can_block_in("aiohttp/web_urldispatcher.py", "__init__")
        yield detector
