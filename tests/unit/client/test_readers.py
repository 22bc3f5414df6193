"""The file readers, without a server."""

from __future__ import annotations

from pathlib import Path

import edfio
import numpy as np
import pytest
from ecg_client.readers import UnreadableFile, read_file

MITDB = Path(__file__).resolve().parents[2] / "data" / "mitdb"


def test_wfdb_keeps_the_adc_integers_and_the_gain() -> None:
    recording = read_file(MITDB / "100.hea", "r100")
    assert [lead.name for lead in recording.body.leads] == ["MLII", "V5"]
    assert recording.body.leads[0].signal[:3] == [995, 995, 995]
    assert recording.body.sampling_rate_hz == 360
    assert recording.units_per_mv == {"MLII": 200.0, "V5": 200.0}


def test_an_edf_channel_with_an_offset_is_sent_in_microvolts(tmp_path: Path) -> None:
    data = np.sin(np.arange(500) / 20) * 2.0  # mV
    signal = edfio.EdfSignal(
        data, 250, label="ECG II", physical_dimension="mV", physical_range=(-5.0, 5.0)
    )
    path = tmp_path / "offset.edf"
    edfio.Edf([signal]).write(path)
    recording = read_file(path)
    sent = np.array(recording.body.leads[0].signal)
    step_uv = 10.0 / 65535 * 1000
    assert np.max(np.abs(sent - data * 1000)) <= 0.5 + step_uv, "rounded to whole µV"
    assert recording.units_per_mv == {"ECG II": 1000.0}


def test_an_edf_without_an_ecg_channel_names_what_it_has(tmp_path: Path) -> None:
    signal = edfio.EdfSignal(np.zeros(100), 100, label="EEG Fpz", physical_dimension="uV")
    path = tmp_path / "eeg.edf"
    edfio.Edf([signal]).write(path)
    with pytest.raises(UnreadableFile, match="no ECG channel among EEG Fpz"):
        read_file(path)
    assert read_file(path, labels=["EEG Fpz"]).body.leads[0].name == "EEG Fpz"


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
