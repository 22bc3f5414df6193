"""Session-wide access to the real services, and per-test unique names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
from pymongo import AsyncMongoClient

from tests.services import ServiceUrls, real_services

SERVICES_USED = pytest.StashKey[ServiceUrls]()
RUN_FACTS = pytest.StashKey[list[str]]()
"""Lines a test wants in the run's summary (fuzzing totals), shown even when it passes."""


def report_fact(config: pytest.Config, line: str) -> None:
    config.stash.setdefault(RUN_FACTS, []).append(line)


@pytest.fixture(scope="session")
def services(request: pytest.FixtureRequest) -> Iterator[ServiceUrls]:
    with real_services() as urls:
        request.config.stash[SERVICES_USED] = urls
        yield urls


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Say where the real services came from, so a run shows they were not skipped, and
    what the tests reported as facts of the run."""
    for line in config.stash.get(RUN_FACTS, []):
        terminalreporter.write_line(line)
    urls = config.stash.get(SERVICES_USED, None)
    if urls is None:
        terminalreporter.write_line("real services: not used by the selected tests")
    else:
        terminalreporter.write_line(
            f"real services: {urls.source}; mongo={urls.mongo_url} amqp={urls.amqp_url}"
        )


@pytest.fixture
def unique() -> str:
    """A short unique suffix for database, exchange, queue and user names."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def mongo_db_name(services: ServiceUrls, unique: str) -> AsyncIterator[str]:
    name = f"ecg_test_{unique}"
    yield name
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(services.mongo_url)
    await client.drop_database(name)
    await client.close()


@pytest.fixture
async def amqp_names(services: ServiceUrls, unique: str) -> AsyncIterator[dict[str, str]]:
    """An exchange and queue names of this test only, deleted afterwards."""
    names = {
        "exchange": f"ecg.test.{unique}",
        "results_queue": f"ecg.test.{unique}.gateway",
        "analyzer_queue": f"ecg.test.{unique}.analyzer",
        "observer_queue": f"ecg.test.{unique}.observer",
    }
    yield names
    connection = await aio_pika.connect(services.amqp_url)
    async with connection:
        channel = await connection.channel()
        for key in ("results_queue", "analyzer_queue", "observer_queue"):
            for queue in (names[key], f"{names[key]}.dead"):
                await channel.queue_delete(queue)
        for exchange in (names["exchange"], f"{names['exchange']}.dead"):
            await channel.exchange_delete(exchange)
