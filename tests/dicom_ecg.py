"""A DICOM 12-lead ECG written with pydicom, as a cart would store it (Supplement 30's
Waveform module), for the reader's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

TWELVE_LEAD_ECG_STORAGE = "1.2.840.10008.5.1.4.1.1.9.1.1"
TWELVE_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
SCPECG_CODES = {
    "I": ("5.6.3-9-1", "Lead I (Einthoven)"),
    "II": ("5.6.3-9-2", "Lead II"),
    "III": ("5.6.3-9-61", "Lead III"),
    "aVR": ("5.6.3-9-62", "Lead aVR"),
    "aVL": ("5.6.3-9-63", "Lead aVL"),
    "aVF": ("5.6.3-9-64", "Lead aVF"),
    "V1": ("5.6.3-9-3", "Lead V1"),
    "V2": ("5.6.3-9-4", "Lead V2"),
    "V3": ("5.6.3-9-5", "Lead V3"),
    "V4": ("5.6.3-9-6", "Lead V4"),
    "V5": ("5.6.3-9-7", "Lead V5"),
    "V6": ("5.6.3-9-8", "Lead V6"),
}


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def ecg_samples(rate: int = 500, seconds: int = 10) -> npt.NDArray[np.int16]:
    """(samples, 12) int16: beats at 75 bpm, each lead its own gain and sign, plus noise."""
    rng = np.random.default_rng(7)
    time_s = np.arange(rate * seconds) / rate
    beat = np.exp(-(((time_s % 0.8) - 0.4) ** 2) / 0.0003)
    gains = np.linspace(-300, 500, len(TWELVE_LEADS))
    noise = rng.normal(0, 8, (time_s.size, len(TWELVE_LEADS)))
    return np.rint(beat[:, None] * gains[None, :] + noise).astype(np.int16)


def write_dicom_ecg(
    path: Path,
    *,
    sensitivity_uv: float = 2.5,
    baseline: float = 0.0,
    rate: int = 500,
    waveform: bool = True,
) -> tuple[Path, npt.NDArray[np.int16]]:
    """A 12-lead ECG Waveform Storage file at ``path``, and the samples it holds."""
    samples = ecg_samples(rate)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(TWELVE_LEAD_ECG_STORAGE)
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = TWELVE_LEAD_ECG_STORAGE
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "ECG"
    dataset.PatientName = "Test^Cart"
    if waveform:
        group = Dataset()
        group.MultiplexGroupLabel = "RHYTHM"
        group.WaveformOriginality = "ORIGINAL"
        group.NumberOfWaveformChannels = len(TWELVE_LEADS)
        group.NumberOfWaveformSamples = samples.shape[0]
        group.SamplingFrequency = rate
        group.WaveformBitsAllocated = 16
        group.WaveformSampleInterpretation = "SS"
        channels = []
        for name in TWELVE_LEADS:
            channel = Dataset()
            value, meaning = SCPECG_CODES[name]
            channel.ChannelSourceSequence = [_code(value, "SCPECG", meaning)]
            channel.ChannelSensitivity = sensitivity_uv
            channel.ChannelSensitivityUnitsSequence = [_code("uV", "UCUM", "microvolt")]
            channel.ChannelSensitivityCorrectionFactor = 1
            channel.ChannelBaseline = baseline
            channel.ChannelSampleSkew = 0
            channel.WaveformBitsStored = 16
            channels.append(channel)
        group.ChannelDefinitionSequence = channels
        group.WaveformData = samples.astype("<i2").tobytes()
        dataset.WaveformSequence = [group]
    dataset.save_as(path, enforce_file_format=True)
    return path, samples
