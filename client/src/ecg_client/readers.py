"""ECG files to the API's body. Kept libraries read the formats (wfdb for PhysioNet's WFDB);
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
        if path.suffix.lower() in (".hea", ".dat", ""):
            return read_wfdb(path, ecg_id)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UnreadableFile(f"{path}: {where}: {first['msg']}") from None
    raise UnreadableFile(f"{path}: unknown format (WFDB .hea and .csv are read)")
