"""Broker failover on a three-node RabbitMQ cluster: while ECGs are uploaded steadily, the
node leading the analyzer's quorum queue is SIGKILLed, then (once it is back) the node the
gateway is connected to. Every accepted ECG must come back analyzed, with nothing in a
dead-letter queue and no 5xx."""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import report_fact
from tests.e2e.conftest import Api, Stack
from tests.rabbit_cluster import Cluster, available, start_cluster

pytestmark = pytest.mark.e2e

UPLOADS = 120
UPLOAD_INTERVAL_S = 0.25
DOWN_S = 6.0


@pytest.fixture
def cluster(tmp_path: Path, unique: str) -> Iterator[Cluster]:
    reason = available()
    if reason is not None:
        pytest.skip(f"no local three-node cluster: {reason}")
    started = start_cluster(tmp_path / "rabbit", unique[:8])
    yield started
    started.stop()


class Uploader(threading.Thread):
    """Uploads ECGs at a steady pace and keeps every answer."""

    def __init__(self, api: Api, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.headers = headers
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []

    def run(self) -> None:
        for index in range(UPLOADS):
            ecg_id = f"steady-{index}"
            body = {"id": ecg_id, "leads": [{"name": "I", "signal": [index, -1, 1, -1, 1]}]}
            try:
                response = self.api.http.post("/ecg/", json=body, headers=self.headers)
                self.statuses[ecg_id] = response.status_code
            except httpx.HTTPError as error:
                self.errors.append(f"{ecg_id}: {error!r}")
            time.sleep(UPLOAD_INTERVAL_S)


def analyses_per_ecg(analyzer_log: str) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for line in analyzer_log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "analyzed":
            counts[entry["ecg_id"]] += 1
    return counts


@pytest.mark.timeout(600)
def test_killing_the_queue_leader_then_the_gateways_node_loses_nothing(
    stack: Stack,
    cluster: Cluster,
    amqp_names: dict[str, str],
    unique: str,
    request: pytest.FixtureRequest,
) -> None:
    urls = {"ECG_AMQP_URL": cluster.amqp_urls}
    stack.start_gateway(**urls)
    stack.start("analyzer", "ecg_analyzer", **urls)
    api = Api(stack.base_url)
    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"steady-{unique}", "steady-password")
    user = api.token(f"steady-{unique}", "steady-password")

    uploader = Uploader(api, user)
    uploader.start()
    faults = []
    time.sleep(5)

    leader = cluster.queue_leader(amqp_names["analyzer_queue"])
    leader.kill()
    faults.append(f"SIGKILL {leader.name} (leader of {amqp_names['analyzer_queue']})")
    time.sleep(DOWN_S)
    leader.start()
    leader.ctl("await_online_nodes", "3")

    gateways_node = cluster.connection_node("gateway")
    gateways_node.kill()
    faults.append(f"SIGKILL {gateways_node.name} (the gateway's node)")
    time.sleep(DOWN_S)
    gateways_node.start()

    uploader.join(timeout=UPLOADS * UPLOAD_INTERVAL_S + 120)
    assert not uploader.errors, uploader.errors
    accepted = [ecg_id for ecg_id, status in uploader.statuses.items() if status == 202]
    assert len(uploader.statuses) == UPLOADS
    assert all(status < 500 for status in uploader.statuses.values()), uploader.statuses
    assert len(accepted) == UPLOADS

    outcomes: collections.Counter[str] = collections.Counter()
    for ecg_id in accepted:
        outcomes[api.wait_done(user, ecg_id, timeout_s=120)["status"]] += 1
    depths = cluster.queue_depths()
    dead = {
        name: depths.get(name, 0)
        for name in (f"{amqp_names['analyzer_queue']}.dead", f"{amqp_names['results_queue']}.dead")
    }
    analyses = analyses_per_ecg((stack.log_dir / "analyzer.log").read_text(errors="replace"))
    summary = (
        f"broker cluster: {UPLOADS} ECGs uploaded, {len(accepted)} accepted; faults: {'; '.join(faults)}; "
        f"outcomes: {dict(outcomes)}; dead letters: {dead}; analyzer runs per ECG: "
        f"{dict(collections.Counter(analyses.values()))} (a run repeated after a fault is "
        "stored once)"
    )
    print(summary)
    report_fact(request.config, summary)
    assert outcomes == {"done": len(accepted)}
    assert dead == dict.fromkeys(dead, 0)
