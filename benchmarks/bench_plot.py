"""Plot rendering speed and size: ``render_ecg_svg`` (what ``GET /ecg/{id}/plot.svg`` runs
after loading the ECG) on MIT-BIH record 100, whole (30 min, 2 x 650,000 samples) and its
first 10 s, and on a 12-lead, 10 s, 500 Hz ECG; with ``--http``, also the whole request on a
gateway and an analyzer on the local services (the ECG read back from the database
included). Prints numbers; asserts nothing.

    uv run python benchmarks/bench_plot.py [--http]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ecg_client.readers import read_file
from ecg_contracts.signal import pack_samples
from ecg_gateway.model import EcgRecord, StoredLead
from ecg_gateway.plot import Window, render_ecg_svg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_gateway import synthetic_body  # noqa: E402
from benchmarks.local_stack import local_stack  # noqa: E402

AT = datetime(2026, 12, 6, tzinfo=UTC)


def as_record(
    ecg_id: str, leads: list[tuple[str, list[int], float | None]], rate: float
) -> EcgRecord:
    return EcgRecord(
        owner_id="bench",
        ecg_id=ecg_id,
        date=AT,
        sampling_rate_hz=rate,
        submitted_at=AT,
        content_hash=ecg_id,
        leads=[StoredLead(name, len(s), *pack_samples(s), gain) for name, s, gain in leads],
    )


def bench(name: str, record: EcgRecord, window: Window, runs: int) -> None:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        svg = render_ecg_svg(record, window)
        times.append(time.perf_counter() - started)
        size = len(svg.encode())
    print(
        f"  {name:<44} median {statistics.median(times) * 1000:7.1f} ms, "
        f"max {max(times) * 1000:7.1f} ms, {size / 1e6:.3f} MB ({runs} runs)"
    )


def bench_http(runs: int) -> None:
    """Record 100 uploaded whole, then its plot asked for over HTTP, default and whole."""
    import httpx
    from ecg_client import EcgClient

    with local_stack("bench_plot") as stack:
        with EcgClient(stack.base_url) as admin:
            admin.login("admin", "adminpass")
            admin.create_user(f"bench-{stack.unique}", "bench-password")
        with EcgClient(stack.base_url) as user:
            token = user.login(f"bench-{stack.unique}", "bench-password")
            user.upload(read_file(ROOT / "tests" / "data" / "mitdb" / "100.hea", "mitdb-100"))
            user.insights("mitdb-100", wait_s=120)
        headers = {"Authorization": f"Bearer {token}"}
        print("GET /ecg/mitdb-100/plot.svg on the local stack (record 100 stored, analyzed):")
        with httpx.Client(base_url=stack.base_url, headers=headers, timeout=60) as http:
            for name, query in (("first 10 s (default)", ""), ("whole 30 min", "?seconds=1806")):
                times, size = [], 0
                for _ in range(runs):
                    started = time.perf_counter()
                    answer = http.get(f"/ecg/mitdb-100/plot.svg{query}")
                    times.append(time.perf_counter() - started)
                    answer.raise_for_status()
                    size = len(answer.content)
                print(
                    f"  {name:<44} median {statistics.median(times) * 1000:7.1f} ms, "
                    f"max {max(times) * 1000:7.1f} ms, {size / 1e6:.3f} MB ({runs} runs)"
                )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    options.add_argument("--http", action="store_true", help="also over HTTP on a local stack")
    arguments = options.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    body = read_file(ROOT / "tests" / "data" / "mitdb" / "100.hea")
    record_100 = as_record(
        "mitdb-100", [(lead.name, lead.signal, lead.units_per_mv) for lead in body.leads], 360.0
    )
    twelve = as_record(
        "twelve-lead",
        [(lead["name"], lead["signal"], None) for lead in json.loads(synthetic_body(1))["leads"]],
        500.0,
    )
    print("render_ecg_svg:")
    bench("record 100, first 10 s (default window)", record_100, Window(), 50)
    bench("record 100, whole 30 min (seconds=1806)", record_100, Window(seconds=1806), 10)
    bench("12 leads x 10 s at 500 Hz, no gain", twelve, Window(), 50)
    if arguments.http:
        bench_http(10)


if __name__ == "__main__":
    main()
