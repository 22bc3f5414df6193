"""Speed of the analyzer's insights against reference points, measured in one run.

Run: ``uv run --group bench python benchmarks/bench_analyzer.py``

1. QRS detection on MIT-BIH record 100, lead MLII (650,000 samples) against NeuroKit2's
   Pan-Tompkins (``ecg_clean`` + ``ecg_peaks``); target: at least 2x faster.
2. ``compute_insights`` of a 12-lead, 10 s, 500 Hz ECG; target: median under 5 ms. Twice:
   each lead its own regular rhythm, then one irregular rhythm (atrial fibrillation's RR
   intervals) on every lead, which costs more where a lead is searched on higher bands.
3. ``count_zero_crossings`` over 100 million int16 samples against ``arr.sum()``;
   target: at least 1/4 of ``sum``'s throughput.
4. ``compute_insights`` of MIT-BIH 100's two 30-minute leads, with the page faults per call;
   no target.

Everything runs on one thread (BLAS/OpenMP pools set to 1, process pinned to one CPU), with
glibc's allocator set as in the analyzer's worker processes (``keep_freed_memory``; pass
``--default-allocator`` for glibc's defaults, to see what that setting is worth). Exits
non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# Before numpy is imported: its BLAS/OpenMP pools read these once.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import neurokit2 as nk  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from ecg_analyzer.insights import compute_insights, count_zero_crossings  # noqa: E402
from ecg_analyzer.insights.qrs import detect_r_peaks  # noqa: E402
from ecg_analyzer.worker.allocator import keep_freed_memory  # noqa: E402

from tests.mitdb import load_record, match_beats  # noqa: E402
from tests.unit.analyzer.synthetic_ecg import synthetic_ecg  # noqa: E402

ZERO_CROSSING_SAMPLES = 100_000_000
QRS_ROUNDS = 8


def timings_s(function: Callable[[], object], runs: int) -> list[float]:
    """Wall time of each of ``runs`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def check(label: str, passed: bool, failures: list[str]) -> str:
    if not passed:
        failures.append(label)
    return "PASS" if passed else "FAIL"


def bench_qrs(failures: list[str]) -> None:
    record = load_record("100")
    signal = record.signal("MLII")
    rate = record.sampling_rate_hz

    def neurokit() -> npt.NDArray[np.int64]:
        cleaned = nk.ecg_clean(signal, sampling_rate=int(rate), method="pantompkins1985")
        _, info = nk.ecg_peaks(cleaned, sampling_rate=int(rate), method="pantompkins1985")
        return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)

    # Interleaved rounds, so that a slow spell of the VM falls on both sides alike.
    ours_times: list[float] = []
    theirs_times: list[float] = []
    for _ in range(QRS_ROUNDS):
        ours_times += timings_s(lambda: detect_r_peaks(signal, rate), runs=2)
        theirs_times += timings_s(neurokit, runs=1)
    ours_s, theirs_s = min(ours_times), min(theirs_times)
    match = match_beats(detect_r_peaks(signal, rate), record.beat_samples, rate)
    nk_match = match_beats(neurokit(), record.beat_samples, rate)
    speedup = theirs_s / ours_s
    print(
        f"1. QRS detection, record 100 MLII, {signal.size:,} samples at {rate:g} Hz "
        f"(best of {len(ours_times)} and {len(theirs_times)}, interleaved)"
    )
    print(f"   {'':<22}{'time ms':>10}{'samples/s':>14}{'Se %':>9}{'+P %':>9}{'|err| ms':>10}")
    for name, seconds, beats in (
        ("ecg_analyzer", ours_s, match),
        ("NeuroKit2 PT1985", theirs_s, nk_match),
    ):
        print(
            f"   {name:<22}{seconds * 1e3:>10.2f}{signal.size / seconds:>14.3e}"
            f"{100 * beats.sensitivity:>9.3f}{100 * beats.positive_predictivity:>9.3f}"
            f"{beats.mean_absolute_error_s * 1e3:>10.2f}"
        )
    print(f"   speed-up {speedup:.2f}x (target >= 2x): {check('qrs', speedup >= 2, failures)}")
    print(
        f"   reference beats {record.beat_samples.size}: TP {match.true_positives}, "
        f"FN {match.false_negatives}, FP {match.false_positives}"
    )


def twelve_lead_ecg(
    rr_intervals_s: npt.NDArray[np.float64] | None = None,
) -> list[tuple[str, npt.NDArray[np.int16]]]:
    """Twelve leads of 10 s at 500 Hz: by default each with its own regular rhythm, or all
    with the given RR intervals."""
    names = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    gains = [0.6, 1.0, 0.4, -0.8, 0.3, 0.7, -0.9, -1.2, 0.8, 1.4, 1.2, 0.9]
    return [
        (
            name,
            synthetic_ecg(
                72,
                500.0,
                10.0,
                seed=index,
                gain_adc_per_mv=1000.0 * gain,
                noise_mv=0.02,
                rr_intervals_s=rr_intervals_s,
            ).samples.astype(np.int16),
        )
        for index, (name, gain) in enumerate(zip(names, gains, strict=True))
    ]


def bench_insights(failures: list[str]) -> None:
    irregular_rr_s = np.random.default_rng(3).uniform(0.45, 1.2, 30)
    runs = 1000
    for label, leads in (
        ("", twelve_lead_ecg()),
        (", one irregular rhythm (RR 0.45-1.2 s)", twelve_lead_ecg(irregular_rr_s)),
    ):
        times_ms = np.asarray(timings_s(partial(compute_insights, leads, 500.0), runs)) * 1e3
        median = statistics.median(times_ms.tolist())
        p95 = float(np.percentile(times_ms, 95))
        print(f"2. compute_insights, 12 leads x 10 s at 500 Hz{label} ({runs} runs)")
        print(
            f"   median {median:.3f} ms, p95 {p95:.3f} ms, min {times_ms.min():.3f} ms, "
            f"max {times_ms.max():.3f} ms"
        )
        print(f"   target median < 5 ms: {check('insights', median < 5.0, failures)}")


def bench_long_record() -> None:
    """No target: what a worker does with a 30-minute Holter excerpt, and the fresh pages
    (minor page faults) each call touches, which ``keep_freed_memory`` is there to avoid."""
    record = load_record("100")
    leads = list(zip(record.signal_names, record.signals, strict=True))
    runs = 5
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    best_s = min(timings_s(lambda: compute_insights(leads, record.sampling_rate_hz), runs))
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before) / (runs + 1)
    print(f"4. compute_insights, MIT-BIH 100, both leads x 30 min at 360 Hz (best of {runs})")
    print(f"   {best_s * 1e3:.1f} ms, {faults:,.0f} minor page faults per call")


def bench_zero_crossings(failures: list[str]) -> None:
    record = load_record("100")
    mlii = record.signal("MLII").astype(np.int32)
    # Centred on its median, the isoelectric line sits on zero: many runs of zeros.
    centred = (mlii - int(np.median(mlii))).astype(np.int16)
    ecg_like = np.resize(centred, ZERO_CROSSING_SAMPLES)
    uniform = np.random.default_rng(0).integers(
        -32768, 32768, ZERO_CROSSING_SAMPLES, dtype=np.int16
    )
    print(f"3. count_zero_crossings vs arr.sum(), {ZERO_CROSSING_SAMPLES:,} int16 (best of 5)")
    for label, array in (("ECG (record 100 tiled)", ecg_like), ("uniform random", uniform)):
        sum_s = min(timings_s(array.sum, runs=5))
        count_s = min(timings_s(partial(count_zero_crossings, array), runs=5))
        ratio = sum_s / count_s
        print(
            f"   {label:<24} zeros {np.count_nonzero(array == 0) / array.size:7.3%}: "
            f"sum {sum_s * 1e3:7.1f} ms ({array.size / sum_s / 1e9:5.2f} Gsamples/s), "
            f"zero crossings {count_s * 1e3:7.1f} ms ({array.size / count_s / 1e9:5.2f} "
            f"Gsamples/s): {ratio:.2f} of sum's throughput (target >= 0.25): "
            f"{check('zero crossings ' + label, ratio >= 0.25, failures)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--default-allocator",
        action="store_true",
        help="leave glibc's malloc thresholds at their defaults (the analyzer's workers do not)",
    )
    arguments = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    kept = not arguments.default_allocator and keep_freed_memory()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"neurokit2 {nk.__version__}, cpus usable {len(os.sched_getaffinity(0))}, allocator: "
        + ("freed memory kept, as in the analyzer's workers" if kept else "C library defaults")
    )
    failures: list[str] = []
    bench_qrs(failures)
    bench_insights(failures)
    bench_zero_crossings(failures)
    bench_long_record()
    print("all targets met" if not failures else f"targets missed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
