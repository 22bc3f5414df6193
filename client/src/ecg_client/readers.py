"""ECG files to the API's body. Kept libraries read the formats (wfdb for PhysioNet's WFDB,
edfio for EDF, EDF+ and BDF, pydicom for DICOM waveforms); samples stay the recording's own
integers (ADC units) with each lead's gain in ``units_per_mv``, so nothing is rounded away.
A lead's baseline (the integer that means 0 V) is subtracted, so that 0 is 0 V and
amplitudes, zero crossings and signs mean what they say; where that offset is not a whole
number of units, the samples are sent in µV instead.

Needs the ``readers`` extra (``pip install ecg-client[readers]``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecg_contracts.rest import EcgCreate, LeadIn
from pydantic import ValidationError


class UnreadableFile(Exception):
    """The file is not an ECG this reader can read; the message says why, in one line."""


MV_PER_UNIT = {"v": 1e3, "mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "nv": 1e-6}
"""Millivolts in one of each physical unit; a gain of ``g`` ADC units per physical unit is
``g / MV_PER_UNIT[unit]`` units per mV."""
MICROVOLTS = 1000.0
"""units_per_mv of samples sent in µV."""


def _mv_per_unit(unit: str) -> float | None:
    return MV_PER_UNIT.get(unit.strip().lower())


def read_wfdb(path: Path, ecg_id: str | None = None) -> EcgCreate:
    """A WFDB record from its ``.hea`` path or record name; multi-segment records are read
    whole. Digital samples (ADC units) less the header's baseline are sent; each lead's gain
    gives ``units_per_mv``."""
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
    units = record.units or ["mV"] * len(record.sig_name)
    baselines = record.baseline or [0] * len(record.sig_name)
    leads = []
    for index, name in enumerate(record.sig_name):
        gain = float(record.adc_gain[index]) if record.adc_gain is not None else 0.0
        mv = _mv_per_unit(units[index] or "mV")
        samples = np.asarray(signals[:, index], dtype=np.int64) - int(baselines[index])
        leads.append(
            LeadIn(
                name=name,
                signal=samples.tolist(),
                units_per_mv=gain / mv if gain > 0 and mv else None,
            )
        )
    return EcgCreate(id=ecg_id, sampling_rate_hz=float(record.fs), leads=leads)


ECG_LEAD_NAMES = frozenset(
    {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6", "mlii", "ml2"}
)


def _looks_like_ecg(label: str, transducer: str) -> bool:
    text = f"{label} {transducer}".lower()
    words = label.lower().replace("ecg", " ").replace("ekg", " ").split()
    return "ecg" in text or "ekg" in text or bool(words and words[-1] in ECG_LEAD_NAMES)


def read_edf(path: Path, ecg_id: str | None = None, labels: list[str] | None = None) -> EcgCreate:
    """EDF, EDF+ or BDF (by extension) through edfio: the channels whose label or transducer
    says ECG (or a standard lead name), or those named in ``labels``. ADC integers less the
    digital value of 0 V when that is a whole number; otherwise µV."""
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
    leads = []
    for signal in chosen:
        mv = _mv_per_unit(signal.physical_dimension)
        if mv is None:
            raise UnreadableFile(
                f"{path}: {signal.label} is in {signal.physical_dimension!r}, not volts"
            )
        (pmin, pmax), (dmin, dmax) = signal.physical_range, signal.digital_range
        per_digit = (pmax - pmin) / (dmax - dmin)
        zero = dmin - pmin / per_digit
        if abs(zero - round(zero)) < 1e-6:
            samples = np.asarray(signal.digital, dtype=np.int64) - round(zero)
            units_per_mv = 1.0 / (per_digit * mv)
        else:
            samples = np.rint(signal.data * (mv * MICROVOLTS)).astype(np.int64)
            units_per_mv = MICROVOLTS
        leads.append(
            LeadIn(name=signal.label.strip(), signal=samples.tolist(), units_per_mv=units_per_mv)
        )
    return EcgCreate(id=ecg_id, sampling_rate_hz=float(rates.pop()), leads=leads)


DICOM_LEAD = re.compile(r"^(?:lead\s+)?(?P<name>[^()]+?)\s*(?:\(.*\))?$", re.IGNORECASE)


def _dicom_lead_name(channel: Any, index: int) -> str:
    """``Lead I (Einthoven)`` -> ``I``, ``Lead aVR`` -> ``aVR``; else the channel's label."""
    sources = channel.get("ChannelSourceSequence") or []
    meaning = str(sources[0].get("CodeMeaning", "")) if sources else ""
    found = DICOM_LEAD.match(meaning.strip()) if meaning.strip() else None
    if found:
        return found.group("name")
    label = str(channel.get("ChannelLabel", "")).strip()
    return label or f"channel {index + 1}"


def _dicom_multiplex(groups: Sequence[Any]) -> int:
    """The rhythm strip (the whole recording), else the group with most samples (never the
    median beat when there is anything else)."""
    for index, group in enumerate(groups):
        if str(group.get("MultiplexGroupLabel", "")).strip().upper() == "RHYTHM":
            return index
    return max(range(len(groups)), key=lambda i: int(groups[i].get("NumberOfWaveformSamples", 0)))


def read_dicom(path: Path, ecg_id: str | None = None) -> EcgCreate:
    """A DICOM waveform (12-lead, general or ambulatory ECG) through pydicom: the rhythm
    multiplex group, each channel's raw integers plus its baseline with ``units_per_mv``
    from its sensitivity, or in µV when the baseline is not a whole number."""
    import numpy as np
    import pydicom
    from pydicom.waveforms.numpy_handler import multiplex_array

    try:
        dataset = pydicom.dcmread(path)
    except Exception as error:
        raise UnreadableFile(f"{path}: not a readable DICOM file ({error})") from None
    groups = dataset.get("WaveformSequence") or []
    if not groups:
        raise UnreadableFile(f"{path}: the DICOM file holds no waveform")
    index = _dicom_multiplex(groups)
    group = groups[index]
    try:
        raw = np.asarray(multiplex_array(dataset, index, as_raw=True), dtype=np.int64)
        rate = float(group.SamplingFrequency)
        channels = list(group.ChannelDefinitionSequence)
    except Exception as error:
        raise UnreadableFile(f"{path}: the waveform cannot be decoded ({error})") from None
    if raw.ndim != 2 or raw.shape[0] == 0 or raw.shape[1] != len(channels):
        raise UnreadableFile(f"{path}: the waveform's samples do not match its channels")
    leads = []
    for number, channel in enumerate(channels):
        samples = raw[:, number]
        sensitivity = float(channel.get("ChannelSensitivity") or 0) * float(
            channel.get("ChannelSensitivityCorrectionFactor") or 1
        )
        units = channel.get("ChannelSensitivityUnitsSequence") or []
        mv = _mv_per_unit(str(units[0].get("CodeValue", ""))) if units else None
        baseline = float(channel.get("ChannelBaseline") or 0)
        units_per_mv = None
        if sensitivity > 0 and mv is not None:
            if baseline == round(baseline):
                samples = samples + round(baseline)
                units_per_mv = 1.0 / (sensitivity * mv)
            else:
                samples = np.rint((samples + baseline) * (sensitivity * (mv * MICROVOLTS)))
                units_per_mv = MICROVOLTS
        leads.append(
            LeadIn(
                name=_dicom_lead_name(channel, number),
                signal=np.asarray(samples, dtype=np.int64).tolist(),
                units_per_mv=units_per_mv,
            )
        )
    return EcgCreate(id=ecg_id, sampling_rate_hz=rate, leads=leads)


def read_csv(
    path: Path, ecg_id: str | None = None, sampling_rate_hz: float | None = None
) -> EcgCreate:
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
    return EcgCreate(id=ecg_id, sampling_rate_hz=sampling_rate_hz, leads=leads)


def read_file(path: Path, ecg_id: str | None = None, **options: Any) -> EcgCreate:
    """By extension: ``.hea``/``.dat`` or no extension (WFDB), ``.edf``/``.bdf``,
    ``.dcm``, ``.csv``. What the API would refuse (a lead name, a sample out of int32) is
    refused here, in one line."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return read_csv(path, ecg_id, options.get("sampling_rate_hz"))
        if suffix in (".edf", ".bdf"):
            return read_edf(path, ecg_id, options.get("labels"))
        if suffix in (".dcm", ".dicom"):
            return read_dicom(path, ecg_id)
        if suffix in (".hea", ".dat", ""):
            return read_wfdb(path, ecg_id)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UnreadableFile(f"{path}: {where}: {first['msg']}") from None
    raise UnreadableFile(f"{path}: unknown format (WFDB .hea, .edf, .bdf, .dcm and .csv are read)")
