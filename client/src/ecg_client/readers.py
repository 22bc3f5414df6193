"""ECG files to the API's body. Kept libraries read the formats (wfdb for PhysioNet's WFDB,
edfio for EDF, EDF+ and BDF);
samples stay the recording's own integers (ADC units), so nothing is rounded away.

Needs the ``readers`` extra (``pip install ecg-client[readers]``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecg_contracts.rest import EcgCreate, LeadIn
from pydantic import ValidationError


class UnreadableFile(Exception):
    """The file is not an ECG this reader can read; the message says why, in one line."""


@dataclass(frozen=True)
class Recording:
    body: EcgCreate
    units_per_mv: dict[str, float]
    """ADC units per millivolt of each lead, when the file says."""


def read_wfdb(path: Path, ecg_id: str | None = None) -> Recording:
    """A WFDB record from its ``.hea`` path or record name; multi-segment records are read
    whole. Digital samples (ADC units) are kept; each lead's gain gives ``units_per_mv``."""
    import numpy as np
    import wfdb

    record_name = str(path.with_suffix("")) if path.suffix in (".hea", ".dat") else str(path)
    try:
        record = wfdb.rdrecord(record_name, physical=False, m2s=True)
    except Exception as error:
        raise UnreadableFile(f"{path}: not a readable WFDB record ({error})") from None
    signals = record.d_signal
    if signals is None or record.sig_name is None or signals.size == 0:
        raise UnreadableFile(f"{path}: the WFDB record holds no samples")
    leads = []
    gains: dict[str, float] = {}
    for index, name in enumerate(record.sig_name):
        samples = np.asarray(signals[:, index], dtype=np.int64)
        leads.append(LeadIn(name=name, signal=samples.tolist()))
        gain = float(record.adc_gain[index]) if record.adc_gain is not None else 0.0
        units = (record.units or [""] * len(record.sig_name))[index]
        if gain > 0 and units.lower() in ("mv", ""):
            gains[name] = gain
    body = EcgCreate(id=ecg_id, sampling_rate_hz=float(record.fs), leads=leads)
    return Recording(body, gains)


ECG_LEAD_NAMES = frozenset(
    {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6", "mlii", "ml2"}
)
VOLTS_PER_UNIT = {"v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "nv": 1e-9}


def _looks_like_ecg(label: str, transducer: str) -> bool:
    text = f"{label} {transducer}".lower()
    words = label.lower().replace("ecg", " ").replace("ekg", " ").split()
    return "ecg" in text or "ekg" in text or bool(words and words[-1] in ECG_LEAD_NAMES)


def read_edf(path: Path, ecg_id: str | None = None, labels: list[str] | None = None) -> Recording:
    """EDF, EDF+ or BDF (by extension) through edfio: the channels whose label or transducer
    says ECG (or a standard lead name), or those named in ``labels``. A channel whose digital
    zero is its physical zero keeps its ADC integers; any other is sent in µV."""
    import edfio
    import numpy as np

    try:
        recording = edfio.read_bdf(path) if path.suffix.lower() == ".bdf" else edfio.read_edf(path)
    except Exception as error:
        raise UnreadableFile(f"{path}: not a readable EDF/BDF file ({error})") from None
    signals: list[edfio.EdfSignal | edfio.BdfSignal] = list(recording.signals)
    if not signals:
        raise UnreadableFile(f"{path}: holds annotations only, no signal")
    chosen = [
        signal
        for signal in signals
        if (
            signal.label in labels
            if labels
            else _looks_like_ecg(signal.label, signal.transducer_type)
        )
    ]
    if not chosen:
        found = ", ".join(signal.label for signal in signals)
        raise UnreadableFile(f"{path}: no ECG channel among {found}: name them with --label")
    rates = {signal.sampling_frequency for signal in chosen}
    if len(rates) != 1:
        raise UnreadableFile(f"{path}: the ECG channels have different rates {sorted(rates)}")
    leads, gains = [], {}
    for signal in chosen:
        volts = VOLTS_PER_UNIT.get(signal.physical_dimension.strip().lower())
        (pmin, pmax), (dmin, dmax) = signal.physical_range, signal.digital_range
        per_digit = (pmax - pmin) / (dmax - dmin)
        if volts is None:
            raise UnreadableFile(
                f"{path}: {signal.label} is in {signal.physical_dimension!r}, not volts"
            )
        name = signal.label.strip()
        if abs(pmin - dmin * per_digit) < 1e-9 * max(abs(pmin), 1.0):
            samples = np.asarray(signal.digital, dtype=np.int64)
            gains[name] = 1e-3 / (per_digit * volts)
        else:
            samples = np.rint(signal.data * volts * 1e6).astype(np.int64)
            gains[name] = 1000.0
        leads.append(LeadIn(name=name, signal=samples.tolist()))
    body = EcgCreate(id=ecg_id, sampling_rate_hz=float(rates.pop()), leads=leads)
    return Recording(body, gains)


def read_csv(
    path: Path, ecg_id: str | None = None, sampling_rate_hz: float | None = None
) -> Recording:
    """A header row of lead names, then one row of integer samples per instant."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.reader(stream))
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableFile(f"{path}: cannot read it as UTF-8 CSV ({error})") from None
    if len(rows) < 2:
        raise UnreadableFile(f"{path}: a header row of lead names and samples are needed")
    names, columns = rows[0], list(zip(*rows[1:], strict=False))
    try:
        samples = [[int(value) for value in column] for column in columns]
    except ValueError as error:
        raise UnreadableFile(f"{path}: samples must be integers ({error})") from None
    if len(samples) != len(names):
        raise UnreadableFile(f"{path}: {len(names)} lead names but {len(samples)} columns")
    leads = [
        LeadIn(name=name.strip(), signal=column)
        for name, column in zip(names, samples, strict=True)
    ]
    return Recording(EcgCreate(id=ecg_id, sampling_rate_hz=sampling_rate_hz, leads=leads), {})


def read_file(path: Path, ecg_id: str | None = None, **options: Any) -> Recording:
    """By extension: ``.hea``/``.dat`` or no extension (WFDB), ``.csv``. What the API would
    refuse (a lead name, a sample out of int32) is refused here, in one line."""
    try:
        if path.suffix.lower() == ".csv":
            return read_csv(path, ecg_id, options.get("sampling_rate_hz"))
        if path.suffix.lower() in (".edf", ".bdf"):
            return read_edf(path, ecg_id, options.get("labels"))
        if path.suffix.lower() in (".hea", ".dat", ""):
            return read_wfdb(path, ecg_id)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UnreadableFile(f"{path}: {where}: {first['msg']}") from None
    raise UnreadableFile(f"{path}: unknown format (WFDB .hea, .edf, .bdf and .csv are read)")
