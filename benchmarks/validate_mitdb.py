"""QRS detection and heart rate scored on the 25 MIT-BIH records of ``tests/data/mitdb``.

Run: ``make validate`` (all detectors, all records, about 2 minutes), or for a quick look

    uv run --no-sync python benchmarks/validate_mitdb.py --detectors ours --records 100,101

(``make validate VALIDATE_ARGS="--detectors ours"`` passes the same options).

Three single-lead detectors run on both leads of every record:

- ``ours``: ``ecg_analyzer.insights.qrs.detect_r_peaks`` on the raw ADC samples;
- ``neurokit``: NeuroKit2's ``ecg_clean`` + ``ecg_peaks``, ``method="neurokit"``, in mV;
- ``xqrs``: WFDB's ``wfdb.processing.xqrs_detect``, in mV (the slowest: about 100 of the 120 s).

The primary lead is MLII, or V5 where there is none (records 102 and 104); the second lead
is the other one. Each detection is scored the EC57 way (``tests.mitdb.score_record``,
detections in ventricular flutter left out) at two matching windows: EC57's (a detection
matches a beat at most 150 ms away, as WFDB's bxb matches by default; the window issue 9
measured its figures with, so its targets are judged there) and a strict one (75 ms either
way, in the per-record tables, so that a mark off its R wave shows). The longest silent gap
is the longest stretch without a detection in which reference beats were missed (at the
strict window).

``compute_insights`` also runs on each record's two leads: its R peaks are scored the same
way ("insights (all leads)"), and its heart rate is compared with the one that
``rhythm_from_r_peaks`` gives for the reference beats.

Then come the gross figures (sums of TP, FN and FP over the records, mean error weighted by
TP), each detector's speed (samples / wall time of the detector calls alone, one thread) and
the targets, PASS or FAIL. It is a report: the exit status is 0 whatever the results. The
output is Markdown, flushed record by record.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

STARTED = time.perf_counter()

# Before numpy is imported: its BLAS/OpenMP pools read these once.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import neurokit2 as nk  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import wfdb  # noqa: E402
import wfdb.processing  # noqa: E402
from ecg_analyzer.insights import compute_insights  # noqa: E402
from ecg_analyzer.insights.qrs import detect_r_peaks  # noqa: E402
from ecg_analyzer.insights.rhythm import rhythm_from_r_peaks  # noqa: E402
from ecg_contracts.insights import Insights  # noqa: E402

from tests.mitdb import (  # noqa: E402
    EC57_MATCH_WINDOW_S,
    MITDB_DIR,
    STRICT_MATCH_WINDOW_S,
    BeatMatch,
    Record,
    in_samples,
    load_record,
    longest_silent_gap_s,
    pooled,
    record_names,
    score_record,
)

IndexArray = npt.NDArray[np.int64]

# Targets of the QRS-detection issue.
PRIMARY_MIN_PERCENT = 99.8  # gross Se and +P, primary lead
PRIMARY_MAX_ERROR_MS = 8.0  # mean |error|, primary lead
SECOND_MIN_PERCENT = 98.0  # gross Se and +P, second lead
MAX_SILENT_GAP_S = 2.0  # on any lead
MAX_HEART_RATE_ERROR_BPM = 2.0  # unless null or with a note

ROLES = ("primary", "second")
ROLE_TITLES = {
    "primary": "Primary lead (MLII; V5 in records without MLII)",
    "second": "Second lead (the other one)",
}
INSIGHTS = "insights"


@dataclass(frozen=True)
class Calibration:
    """ADC gain (units per mV) and baseline of one signal, from the record's header."""

    gain_adc_per_mv: float
    baseline_adc: int


def read_calibrations(name: str) -> dict[str, Calibration]:
    """Gain and baseline of every signal of a record, by signal name.

    A signal line reads ``file format gain[(baseline)][/units] resolution zero ...``: the
    baseline defaults to the ADC zero, a gain of 0 means the WFDB default of 200.
    """
    lines = [
        line.split()
        for line in (MITDB_DIR / f"{name}.hea").read_text(encoding="ascii").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    calibrations = {}
    for fields in lines[1 : 1 + int(lines[0][1])]:
        match = re.fullmatch(r"([-+.\deE]+)(?:\((-?\d+)\))?(?:/\S+)?", fields[2])
        if match is None:
            raise ValueError(f"{name}.hea: cannot read the gain of {fields}")
        adc_zero = int(fields[4]) if len(fields) > 4 else 0
        baseline = int(match.group(2)) if match.group(2) is not None else adc_zero
        gain = float(match.group(1)) or 200.0
        calibrations[fields[8] if len(fields) > 8 else fields[0]] = Calibration(gain, baseline)
    return calibrations


def to_mv(signal: npt.NDArray[np.int16], calibration: Calibration) -> npt.NDArray[np.float64]:
    in_mv: npt.NDArray[np.float64] = (
        signal.astype(np.float64) - calibration.baseline_adc
    ) / calibration.gain_adc_per_mv
    return in_mv


Detector = Callable[[npt.NDArray[np.int16], float, Calibration], IndexArray]


def detect_ours(signal: npt.NDArray[np.int16], rate: float, _: Calibration) -> IndexArray:
    return np.asarray(detect_r_peaks(signal, rate), dtype=np.int64)


def detect_neurokit(
    signal: npt.NDArray[np.int16], rate: float, calibration: Calibration
) -> IndexArray:
    cleaned = nk.ecg_clean(to_mv(signal, calibration), sampling_rate=int(rate), method="neurokit")
    _, info = nk.ecg_peaks(cleaned, sampling_rate=int(rate), method="neurokit")
    return np.sort(np.asarray(info["ECG_R_Peaks"], dtype=np.int64))


def detect_xqrs(signal: npt.NDArray[np.int16], rate: float, calibration: Calibration) -> IndexArray:
    peaks = wfdb.processing.xqrs_detect(sig=to_mv(signal, calibration), fs=rate, verbose=False)
    return np.sort(np.asarray(peaks, dtype=np.int64))


DETECTORS: dict[str, tuple[str, Detector]] = {
    "ours": ("ours", detect_ours),
    "neurokit": ("NK2 neurokit", detect_neurokit),
    "xqrs": ("WFDB xqrs", detect_xqrs),
}


@dataclass(frozen=True)
class Score:
    """One detector's result on one lead (or the insights' on a record)."""

    match: BeatMatch  # at the strict matching window
    ec57_match: BeatMatch  # the same detections at EC57's
    silent_gap_s: float
    gap_with_flagged_s: float  # the silent gap, stretches flagged unusable or unreadable included
    samples: int
    seconds: float


def score(
    detected: IndexArray,
    record: Record,
    samples: int,
    seconds: float,
    unusable: tuple[tuple[int, int], ...] = (),
) -> Score:
    """EC57 figures at both windows; the silent gap leaves out stretches the analyzer
    flagged unusable."""
    match = score_record(detected, record)
    rate = record.sampling_rate_hz
    return Score(
        match=match,
        ec57_match=score_record(detected, record, tolerance_s=EC57_MATCH_WINDOW_S),
        silent_gap_s=longest_silent_gap_s(detected, record.beat_samples, rate, excluded=unusable),
        gap_with_flagged_s=longest_silent_gap_s(detected, record.beat_samples, rate),
        samples=samples,
        seconds=seconds,
    )


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


@dataclass(frozen=True)
class Gross:
    """Figures over every record of one detector and lead role."""

    sensitivity_percent: float
    positive_predictivity_percent: float
    mean_absolute_error_ms: float
    worst_gap_s: float
    worst_gap_with_flagged_s: float
    records_with_long_gap: int
    records: int
    mega_samples_per_s: float


def gross(scores: Sequence[Score], *, ec57: bool = False) -> Gross:
    """At the strict matching window, or with ``ec57`` at EC57's."""
    total = pooled(s.ec57_match if ec57 else s.match for s in scores)
    tp, fn, fp = total.true_positives, total.false_negatives, total.false_positives
    seconds = sum(s.seconds for s in scores)
    return Gross(
        sensitivity_percent=percent(tp, tp + fn),
        positive_predictivity_percent=percent(tp, tp + fp),
        mean_absolute_error_ms=1e3 * total.mean_absolute_error_s if tp else float("nan"),
        worst_gap_s=max((s.silent_gap_s for s in scores), default=0.0),
        worst_gap_with_flagged_s=max((s.gap_with_flagged_s for s in scores), default=0.0),
        records_with_long_gap=sum(s.silent_gap_s > MAX_SILENT_GAP_S for s in scores),
        records=len(scores),
        mega_samples_per_s=sum(s.samples for s in scores) / seconds / 1e6 if seconds else 0.0,
    )


def cell(result: Score) -> str:
    """``Se % / +P % / mean |error| ms / longest silent gap s``, and the longest gap with the
    flagged stretches when it is longer."""
    match = result.match
    tp, fn, fp = match.true_positives, match.false_negatives, match.false_positives
    gap = (
        f"**{result.silent_gap_s:.1f}**"
        if result.silent_gap_s > MAX_SILENT_GAP_S
        else (f"{result.silent_gap_s:.1f}")
    )
    if result.gap_with_flagged_s > result.silent_gap_s:
        gap += f" ({result.gap_with_flagged_s:.1f} flagged)"
    return (
        f"{percent(tp, tp + fn):.2f} / {percent(tp, tp + fp):.2f} / "
        f"{match.mean_absolute_error_s * 1e3:.1f} / {gap}"
    )


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]] = ()) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print_row(row)


def print_row(row: Sequence[str]) -> None:
    print("| " + " | ".join(row) + " |", flush=True)


def lead_indices(record: Record) -> dict[str, int]:
    """Signal index of each lead role: MLII (or V5 without MLII) first, the other second."""
    names = record.signal_names
    primary = names.index("MLII") if "MLII" in names else names.index("V5")
    return {"primary": primary, "second": 1 - primary}


def run_detectors(
    names: Sequence[str],
    records: dict[str, Record],
    calibrations: dict[str, dict[str, Calibration]],
    detectors: Sequence[str],
    both_leads: dict[str, Insights],
) -> dict[tuple[str, str], list[Score]]:
    """Score every detector on every record, one table per lead role. Our detector's silent
    gaps leave out the stretches that the insights of both leads (``both_leads``) flag
    unreadable on that lead."""
    flagged = {
        name: {
            lead.name: in_samples(lead.unreadable, records[name].sampling_rate_hz)
            for lead in both_leads[name].leads
        }
        for name in names
    }
    results: dict[tuple[str, str], list[Score]] = {
        (detector, role): [] for detector in detectors for role in ROLES
    }
    # One untimed call each on 10 s of the first record: first-call costs are not detection.
    first = records[names[0]]
    warm_up_lead = lead_indices(first)["primary"]
    for detector in detectors:
        DETECTORS[detector][1](
            first.signals[warm_up_lead, : int(10 * first.sampling_rate_hz)],
            first.sampling_rate_hz,
            calibrations[names[0]][first.signal_names[warm_up_lead]],
        )
    for role in ROLES:
        print(f"\n## {ROLE_TITLES[role]}")
        print(
            "\nAt the strict matching window (75 ms either way). Each cell: Se % / +P % / "
            "mean abs. error ms / longest silent gap s (ours: "
            "outside the stretches the insights flag unreadable on the lead; in brackets, "
            "with them, where longer).\n"
        )
        print_table(["record", "lead", "ref. beats", *(DETECTORS[d][0] for d in detectors)])
        for name in names:
            record = records[name]
            index = lead_indices(record)[role]
            lead = record.signal_names[index]
            signal = record.signals[index]
            cells = []
            for detector in detectors:
                start = time.perf_counter()
                detected = DETECTORS[detector][1](
                    signal, record.sampling_rate_hz, calibrations[name][lead]
                )
                seconds = time.perf_counter() - start
                unreadable = flagged[name][lead] if detector == "ours" else ()
                result = score(detected, record, signal.size, seconds, unreadable)
                results[detector, role].append(result)
                cells.append(cell(result))
            print_row([name, lead, str(record.beat_samples.size), *cells])
    return results


@dataclass(frozen=True)
class HeartRateCheck:
    record: str
    passed: bool


def insights_score(
    record: Record, leads: list[tuple[str, npt.NDArray[np.int16]]]
) -> tuple[Score, Insights]:
    """``compute_insights`` on these leads of a record: its R peaks scored outside the
    stretches it flagged unusable (where it reports no beats rather than guess)."""
    rate = record.sampling_rate_hz
    start = time.perf_counter()
    insights = compute_insights(leads, rate)
    seconds = time.perf_counter() - start
    peaks = np.asarray(insights.r_peaks or [], dtype=np.int64)
    samples = sum(signal.size for _, signal in leads)
    return score(peaks, record, samples, seconds, in_samples(insights.unusable, rate)), insights


def run_single_lead_insights(
    names: Sequence[str], records: dict[str, Record]
) -> dict[str, list[Score]]:
    """``compute_insights`` on each lead alone, as a one-lead device would send it."""
    scores: dict[str, list[Score]] = {role: [] for role in ROLES}
    for name in names:
        record = records[name]
        for role, index in lead_indices(record).items():
            lead = [(record.signal_names[index], record.signals[index])]
            scores[role].append(insights_score(record, lead)[0])
    return scores


def score_both_leads(
    names: Sequence[str], records: dict[str, Record]
) -> dict[str, tuple[Score, Insights]]:
    """``compute_insights`` on both leads of every record, timed, after one untimed call on
    10 s of the first (as for the detectors)."""
    first = records[names[0]]
    compute_insights(
        list(
            zip(
                first.signal_names,
                first.signals[:, : int(10 * first.sampling_rate_hz)],
                strict=True,
            )
        ),
        first.sampling_rate_hz,
    )
    return {
        name: insights_score(
            records[name], list(zip(records[name].signal_names, records[name].signals, strict=True))
        )
        for name in names
    }


def run_insights(
    names: Sequence[str],
    records: dict[str, Record],
    both_leads: dict[str, tuple[Score, Insights]],
) -> tuple[list[Score], list[HeartRateCheck]]:
    """The insights of both leads of every record: their R peaks and heart rate."""
    print("\n## Insights (all leads)\n")
    print(
        "`compute_insights` on both leads. Beats, at the strict matching window: Se % / +P % / "
        "mean abs. error ms / longest "
        "silent gap s outside the stretches flagged unusable. Reference heart rate: `rhythm_from_r_peaks` of the reference beats. "
        f"HR check: within {MAX_HEART_RATE_ERROR_BPM:g} bpm, or null, or with a note.\n"
    )
    print_table(
        [
            "record",
            "R-peak leads",
            "R peaks",
            "unusable s",
            "HR bpm",
            "ref. HR bpm",
            "diff bpm",
            "notes",
            "HR",
        ]
    )
    scores: list[Score] = []
    checks: list[HeartRateCheck] = []
    for name in names:
        record = records[name]
        rate = record.sampling_rate_hz
        result, insights = both_leads[name]
        unusable = in_samples(insights.unusable, rate)
        scores.append(result)
        reference_bpm = rhythm_from_r_peaks(record.beat_samples, rate).heart_rate_bpm
        bpm = insights.heart_rate_bpm
        difference = None if bpm is None or reference_bpm is None else bpm - reference_bpm
        passed = (
            bpm is None
            or bool(insights.notes)
            or (difference is not None and abs(difference) <= MAX_HEART_RATE_ERROR_BPM)
        )
        checks.append(HeartRateCheck(name, passed))
        print_row(
            [
                name,
                "+".join(insights.r_peak_leads or []) or "-",
                cell(result),
                f"{sum(end - start for start, end in unusable) / rate:.0f}",
                "null" if bpm is None else f"{bpm:.2f}",
                "null" if reference_bpm is None else f"{reference_bpm:.2f}",
                "-" if difference is None else f"{difference:+.2f}",
                str(len(insights.notes)),
                "ok" if passed else "**FAIL**",
            ]
        )
    return scores, checks


def verdict(passed: bool) -> str:
    return "PASS" if passed else "**FAIL**"


def accuracy_cells(row: tuple[str, str], figure: Gross) -> list[str]:
    """A gross row's detector, lead, records, Se, +P and mean error, as both tables show them."""
    detector, role = row
    return [
        DETECTORS[detector][0] if detector in DETECTORS else INSIGHTS,
        role,
        str(figure.records),
        f"{figure.sensitivity_percent:.3f}",
        f"{figure.positive_predictivity_percent:.3f}",
        f"{figure.mean_absolute_error_ms:.2f}",
    ]


def print_gross(
    results: dict[tuple[str, str], list[Score]],
    detectors: Sequence[str],
    insights_scores: list[Score],
    single_lead_scores: dict[str, list[Score]],
) -> tuple[dict[tuple[str, str], Gross], dict[tuple[str, str], Gross]]:
    """Print the gross figures; return them at EC57's matching window and at the strict one."""
    print("\n## Gross\n")
    print(
        "Se and +P from the sums of TP, FN and FP over the records; mean abs. error weighted "
        "by TP. Insights on one lead alone: `compute_insights` given only that lead, as from a "
        "one-lead device; the beats it leaves out in the stretches it flags unusable count as "
        "missed (its gaps do not).\n"
    )
    # Every row's scores, in the order the rows are printed.
    rows: dict[tuple[str, str], list[Score]] = {
        (detector, role): results[detector, role] for detector in detectors for role in ROLES
    }
    rows[INSIGHTS, "all"] = insights_scores
    for role in ROLES:
        rows[INSIGHTS, f"{role} alone"] = single_lead_scores[role]
    ec57 = {row: gross(scores, ec57=True) for row, scores in rows.items()}
    strict = {row: gross(scores) for row, scores in rows.items()}
    print(
        f"At EC57's matching window ({EC57_MATCH_WINDOW_S * 1e3:g} ms either way, as WFDB's "
        "`bxb` by default; issue 9 measured with it, and the targets are judged on it):\n"
    )
    print_table(["detector", "lead", "records", "Se %", "+P %", "mean abs. error ms"])
    for row, figure in ec57.items():
        print_row(accuracy_cells(row, figure))
    print(
        f"\nAt the strict matching window ({STRICT_MATCH_WINDOW_S * 1e3:g} ms either way, as "
        "in the tables above); worst gap: outside the stretches flagged unusable (insights) or "
        "unreadable on the lead (ours), and with them; long gaps: records with a silent gap "
        f"over {MAX_SILENT_GAP_S:g} s outside them; speed: samples / wall time of the detector "
        "calls (insights: the leads' samples / `compute_insights` time), one thread:\n"
    )
    print_table(
        [
            "detector",
            "lead",
            "records",
            "Se %",
            "+P %",
            "mean abs. error ms",
            "worst gap s",
            "with flagged s",
            "long gaps",
            "M samples/s",
        ]
    )
    for row, figure in strict.items():
        print_row(
            [
                *accuracy_cells(row, figure),
                f"{figure.worst_gap_s:.1f}",
                f"{figure.worst_gap_with_flagged_s:.1f}",
                str(figure.records_with_long_gap),
                f"{figure.mega_samples_per_s:.2f}",
            ]
        )
    return ec57, strict


def print_targets(
    figures: dict[tuple[str, str], Gross],
    strict: dict[tuple[str, str], Gross],
    detectors: Sequence[str],
    heart_rate_checks: list[HeartRateCheck],
) -> None:
    """The issue's bars on ``figures`` (EC57's window), each beside its ``strict`` figure."""
    print("\n## Targets\n")
    print(
        "The issue's targets apply to `ours` and the insights; the other detectors are "
        "measured against the same bars for comparison. Se, +P and error are judged at EC57's "
        f"matching window ({EC57_MATCH_WINDOW_S * 1e3:g} ms either way), the one the issue "
        f"measured with; in brackets, the same figure at the strict window "
        f"({STRICT_MATCH_WINDOW_S * 1e3:g} ms either way), not judged.\n"
    )
    print_table(["target", *(DETECTORS[d][0] for d in detectors)])

    def row(label: str, value: Callable[[str], tuple[str, bool]]) -> None:
        cells = []
        for detector in detectors:
            text, passed = value(detector)
            cells.append(f"{text} {verdict(passed)}")
        print_row([label, *cells])

    def judged(
        role: str, attribute: str, bar: float, *, at_most: bool = False
    ) -> Callable[[str], tuple[str, bool]]:
        def value(detector: str) -> tuple[str, bool]:
            figure: float = getattr(figures[detector, role], attribute)
            beside: float = getattr(strict[detector, role], attribute)
            passed = figure <= bar if at_most else figure >= bar
            return f"{figure:.3f} ({beside:.3f})", passed

        return value

    for role, bar in (("primary", PRIMARY_MIN_PERCENT), ("second", SECOND_MIN_PERCENT)):
        for label, attribute in (
            ("Se", "sensitivity_percent"),
            ("+P", "positive_predictivity_percent"),
        ):
            row(f"{role} lead gross {label} >= {bar:g} %", judged(role, attribute, bar))
        if role == "primary":
            row(
                f"primary lead mean abs. error <= {PRIMARY_MAX_ERROR_MS:g} ms",
                judged("primary", "mean_absolute_error_ms", PRIMARY_MAX_ERROR_MS, at_most=True),
            )
    row(
        f"no silent gap > {MAX_SILENT_GAP_S:g} s on any lead (leads with one, of 2 per record)",
        lambda d: (
            str(sum(strict[d, role].records_with_long_gap for role in ROLES)),
            all(strict[d, role].records_with_long_gap == 0 for role in ROLES),
        ),
    )
    # The analyzer's own output on the same bars: what a one-lead device gets back for each
    # lead (``ours`` is the detection stage before the stretches it cannot trust are left
    # out), and the fused beats of both leads.
    for label, role, bar in (
        ("primary lead alone", "primary alone", PRIMARY_MIN_PERCENT),
        ("second lead alone", "second alone", SECOND_MIN_PERCENT),
        ("all leads", "all", PRIMARY_MIN_PERCENT),
    ):
        figure = figures[INSIGHTS, role]
        beside = strict[INSIGHTS, role]
        print(
            f"\nInsights, {label}: Se {figure.sensitivity_percent:.3f} % "
            f"{verdict(figure.sensitivity_percent >= bar)} "
            f"({beside.sensitivity_percent:.3f}), +P "
            f"{figure.positive_predictivity_percent:.3f} % "
            f"{verdict(figure.positive_predictivity_percent >= bar)} "
            f"({beside.positive_predictivity_percent:.3f}) (bar {bar:g} %)",
            end="",
        )
    print()
    insights = strict[INSIGHTS, "all"]
    failed = [check.record for check in heart_rate_checks if not check.passed]
    print(
        f"\nInsights: no silent gap > {MAX_SILENT_GAP_S:g} s in the R peaks: "
        f"{insights.records_with_long_gap} record(s) with one, worst {insights.worst_gap_s:.1f} s: "
        f"{verdict(insights.records_with_long_gap == 0)}"
    )
    print(
        f"Insights: heart rate within {MAX_HEART_RATE_ERROR_BPM:g} bpm of the reference, or null, "
        f"or with a note: {len(failed)} record(s) fail"
        + (f" ({', '.join(failed)})" if failed else "")
        + f": {verdict(not failed)}"
    )


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--detectors",
        type=comma_list,
        default=list(DETECTORS),
        help=f"comma-separated, from {','.join(DETECTORS)} (default: all)",
    )
    parser.add_argument(
        "--records",
        type=comma_list,
        default=None,
        help="comma-separated record names, e.g. 100,101 (default: all in tests/data/mitdb)",
    )
    arguments = parser.parse_args(argv)
    unknown = [d for d in arguments.detectors if d not in DETECTORS]
    if unknown or not arguments.detectors:
        parser.error(f"unknown detector(s) {unknown}: choose from {','.join(DETECTORS)}")
    available = record_names()
    arguments.records = arguments.records or available
    missing = [r for r in arguments.records if r not in available]
    if missing:
        parser.error(f"no record(s) {missing} in {MITDB_DIR}")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    detectors: list[str] = arguments.detectors
    names: list[str] = arguments.records
    print("# QRS detection on MIT-BIH\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, neurokit2 "
        f"{nk.__version__}, wfdb {wfdb.__version__}; records: {len(names)}; detectors: "
        f"{', '.join(detectors)}",
        flush=True,
    )
    records = {name: load_record(name) for name in names}
    calibrations = {name: read_calibrations(name) for name in names}
    both_leads = score_both_leads(names, records)
    results = run_detectors(
        names,
        records,
        calibrations,
        detectors,
        {name: insights for name, (_, insights) in both_leads.items()},
    )
    insights_scores, heart_rate_checks = run_insights(names, records, both_leads)
    single_lead_scores = run_single_lead_insights(names, records)
    figures, strict = print_gross(results, detectors, insights_scores, single_lead_scores)
    print_targets(figures, strict, detectors, heart_rate_checks)
    print(f"\nTotal run time {time.perf_counter() - STARTED:.1f} s (imports included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
