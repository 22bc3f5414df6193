"""The file readers, without a server."""

from __future__ import annotations

from pathlib import Path

import edfio
import numpy as np
import pytest
from ecg_client.readers import UnreadableFile, read_file
from ecg_contracts.rest import EcgCreate

from tests.dicom_ecg import TWELVE_LEADS, write_dicom_ecg

MITDB = Path(__file__).resolve().parents[2] / "data" / "mitdb"


def gains(body: EcgCreate) -> dict[str, float | None]:
    return {lead.name: lead.units_per_mv for lead in body.leads}


def test_wfdb_keeps_the_adc_integers_and_the_gain() -> None:
    body = read_file(MITDB / "100.hea", "r100")
    assert [lead.name for lead in body.leads] == ["MLII", "V5"]
    assert body.leads[0].signal[:3] == [995 - 1024] * 3, "less the header's baseline (0 V)"
    assert body.sampling_rate_hz == 360
    assert gains(body) == {"MLII": 200.0, "V5": 200.0}


def test_an_edf_channel_with_an_offset_is_sent_in_microvolts(tmp_path: Path) -> None:
    data = np.sin(np.arange(500) / 20) * 2.0  # mV
    signal = edfio.EdfSignal(
        data, 250, label="ECG II", physical_dimension="mV", physical_range=(-5.0, 5.0)
    )
    path = tmp_path / "offset.edf"
    edfio.Edf([signal]).write(path)
    body = read_file(path)
    sent = np.array(body.leads[0].signal)
    step_uv = 10.0 / 65535 * 1000
    assert np.max(np.abs(sent - data * 1000)) <= 0.5 + step_uv, "rounded to whole µV"
    assert gains(body) == {"ECG II": 1000.0}


def test_an_edf_without_an_ecg_channel_names_what_it_has(tmp_path: Path) -> None:
    signal = edfio.EdfSignal(np.zeros(100), 100, label="EEG Fpz", physical_dimension="uV")
    path = tmp_path / "eeg.edf"
    edfio.Edf([signal]).write(path)
    with pytest.raises(UnreadableFile, match="no ECG channel among EEG Fpz"):
        read_file(path)
    assert read_file(path, labels=["EEG Fpz"]).leads[0].name == "EEG Fpz"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("lead.csv", "I\x01\n1\n", "lead names may not contain U\\+0001"),
        ("ragged.csv", "I,II\n1\n", "lead names but"),
        ("x.txt", "", "unknown format"),
    ],
)
def test_what_the_api_would_refuse_is_refused_here(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UnreadableFile, match=reason):
        read_file(path)


def test_a_dicom_12_lead_ecg_keeps_its_integers_lead_names_and_gain(tmp_path: Path) -> None:
    path, samples = write_dicom_ecg(tmp_path / "ecg.dcm", sensitivity_uv=2.5)
    body = read_file(path, "cart-1")
    assert [lead.name for lead in body.leads] == list(TWELVE_LEADS)
    assert [lead.signal for lead in body.leads] == samples.T.tolist()
    assert body.sampling_rate_hz == 500
    assert set(gains(body).values()) == {400.0}, "2.5 µV per unit is 400 units per mV"


def test_a_dicom_channels_whole_baseline_is_added_and_a_fractional_one_gives_microvolts(
    tmp_path: Path,
) -> None:
    path, samples = write_dicom_ecg(tmp_path / "whole.dcm", sensitivity_uv=5.0, baseline=-10)
    body = read_file(path)
    assert body.leads[0].signal == (samples[:, 0].astype(int) - 10).tolist()
    assert gains(body)["I"] == 200.0
    path, samples = write_dicom_ecg(tmp_path / "half.dcm", sensitivity_uv=5.0, baseline=0.5)
    body = read_file(path)
    assert body.leads[0].signal == np.rint((samples[:, 0] + 0.5) * 5).astype(int).tolist()
    assert gains(body)["I"] == 1000.0


def test_an_edf_channel_whose_zero_is_a_whole_digital_value_keeps_its_integers(
    tmp_path: Path,
) -> None:
    data = np.sin(np.arange(500) / 20) * 1000  # µV
    signal = edfio.EdfSignal(
        data,
        250,
        label="ECG I",
        physical_dimension="uV",
        physical_range=(-2000.0, 6000.0),
        digital_range=(-1000, 7000),
    )
    path = tmp_path / "shifted.edf"
    edfio.Edf([signal]).write(path)
    written = edfio.read_edf(path).signals[0].digital
    body = read_file(path)
    assert body.leads[0].signal == (written.astype(int) - 1000).tolist(), "0 V is digital 1000"
    assert gains(body)["ECG I"] == 1000.0


def test_pydicoms_own_example_ecg_reads_its_rhythm_strip() -> None:
    from pydicom import examples

    dataset = examples.waveform
    with_path = Path(dataset.filename)
    body = read_file(with_path)
    assert len(body.leads) == 12
    assert body.leads[0].name == "I"
    assert len(body.leads[0].signal) == 10000, "the 10 s rhythm, not the median beat"
    assert gains(body)["I"] == 800.0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"DICM but not really", "not a readable DICOM file"),
        (None, "holds no waveform"),
    ],
)
def test_a_dicom_file_without_a_waveform_is_refused(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "bad.dcm"
    if content is None:
        write_dicom_ecg(path, waveform=False)
    else:
        path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=reason):
        read_file(path)
