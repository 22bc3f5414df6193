"""The ``ecg`` command against the running stack: MIT-BIH record 100 from its WFDB files,
a CSV, malformed files, and the documented exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.dicom_ecg import TWELVE_LEADS, write_dicom_ecg
from tests.e2e.conftest import Api, Stack
from tests.ports import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RECORD_100 = ROOT / "tests" / "data" / "mitdb" / "100.hea"


def ecg(
    *args: str, env: dict[str, str], timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("ecg")), *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


@pytest.fixture
def user_env(stack: Stack, unique: str, tmp_path: Path) -> dict[str, str]:
    stack.start_gateway()
    stack.start("analyzer", "ecg_analyzer")
    api = Api(stack.base_url)
    api.create_user(api.token("admin", "adminpass"), f"cli-{unique}", "cli-password")
    env = {**os.environ, "ECG_URL": stack.base_url, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = ecg("login", "--username", f"cli-{unique}", "--password", "cli-password", env=env)
    assert done.returncode == 0, done.stderr
    token = tmp_path / "config" / "ecg" / "token.json"
    assert token.stat().st_mode & 0o777 == 0o600
    return env


def test_record_100_uploaded_from_its_wfdb_files_has_its_heart_rate(
    user_env: dict[str, str],
) -> None:
    done = ecg("upload", str(RECORD_100), "--id", "mitdb-100", "--wait", "--json", env=user_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "done"
    assert result["insights"]["heart_rate_bpm"] == pytest.approx(75.5, abs=1.0)
    assert [lead["name"] for lead in result["insights"]["leads"]] == ["MLII", "V5"]
    mlii = result["insights"]["leads"][0]
    assert mlii["units_per_mv"] == 200.0, "the header's gain travels with the lead"
    assert 0.5 < mlii["r_amplitude_mv"] < 2.5, "an R wave of a normal adult's MLII"
    assert mlii["max_mv"] == mlii["max"] / 200
    listing = ecg("list", env=user_env)
    assert "mitdb-100" in listing.stdout


def test_a_csv_round_trips_to_the_same_samples(user_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "two-leads.csv"
    path.write_text("I,II\n1,4\n-2,5\n3,-6\n")
    assert ecg("upload", str(path), "--id", "from-csv", env=user_env).returncode == 0
    stored = json.loads(ecg("get", "from-csv", env=user_env).stdout)
    assert [(lead["name"], lead["signal"]) for lead in stored["leads"]] == [
        ("I", [1, -2, 3]),
        ("II", [4, 5, -6]),
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.hea", "not a header at all\n"),
        ("floats.csv", "I\n1.5\n2.5\n"),
        ("only-header.csv", "I,II\n"),
        ("huge.csv", f"I\n{2**40}\n"),
        ("garbage.dcm", "DICM? no, just text\n"),
        ("garbage.edf", "0       not an EDF header\n"),
        ("garbage.bdf", "\xffBIOSEMI but truncated"),
    ],
)
def test_a_malformed_file_is_refused_in_one_line_and_nothing_is_uploaded(
    user_env: dict[str, str], tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    done = ecg("upload", str(path), env=user_env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert name in done.stderr
    assert "Traceback" not in done.stderr
    assert ecg("list", env=user_env).stdout.count("\n") <= 4, "nothing was uploaded"


def test_exit_codes_for_a_refusal_and_an_unreachable_server(user_env: dict[str, str]) -> None:
    missing = ecg("insights", "no-such-ecg", env=user_env)
    assert missing.returncode == 2
    assert "Not Found" in missing.stderr
    away = {**user_env, "ECG_URL": f"http://127.0.0.1:{free_port()}"}
    assert ecg("list", env=away).returncode == 3
    assert ecg("upload", env=user_env).returncode == 1


def test_an_admin_adds_lists_and_disables_users(
    user_env: dict[str, str], unique: str, tmp_path: Path
) -> None:
    admin_env = {**user_env, "XDG_CONFIG_HOME": str(tmp_path / "admin-config")}
    assert (
        ecg("login", "--username", "admin", "--password", "adminpass", env=admin_env).returncode
        == 0
    )
    added = ecg("users", "add", f"carol-{unique}", "--password", "carol-password", env=admin_env)
    assert added.returncode == 0, added.stderr
    user_id = added.stdout.split()[-1]
    assert f"carol-{unique}" in ecg("users", "list", env=admin_env).stdout
    carol_env = {**user_env, "XDG_CONFIG_HOME": str(tmp_path / "carol-config")}
    login = ecg(
        "login", "--username", f"carol-{unique}", "--password", "carol-password", env=carol_env
    )
    assert login.returncode == 0
    assert ecg("users", "disable", user_id, env=admin_env).returncode == 0
    refused = ecg("list", env=carol_env)
    assert refused.returncode == 2
    assert "Unauthorized" in refused.stderr


def edf_signals(kind: str) -> list[Any]:
    """Two ECG channels and one EEG channel, 10 s at 250 Hz, each digital zero its physical
    zero (so the reader keeps the ADC integers)."""
    import edfio
    import numpy as np

    seconds = np.arange(2500) / 250
    beats = np.exp(-(((seconds % 0.8) - 0.4) ** 2) / 0.0005)
    make: Any = edfio.EdfSignal if kind == "edf" else edfio.BdfSignal
    digital = (-32767, 32767) if kind == "edf" else (-8000000, 8000000)
    physical = (-5.0, 5.0) if kind == "edf" else (-1000.0, 1000.0)
    return [
        make(
            data,
            250,
            label=label,
            physical_dimension="mV",
            physical_range=physical,
            digital_range=digital,
        )
        for label, data in (
            ("ECG I", beats * 1.5),
            ("ECG II", beats * -0.7),
            ("EEG Fpz", np.sin(seconds)),
        )
    ]


@pytest.mark.parametrize("kind", ["edf", "bdf"])
def test_an_edf_or_bdf_file_reads_back_to_the_same_samples(
    user_env: dict[str, str], tmp_path: Path, kind: str
) -> None:
    import edfio

    path = tmp_path / f"written.{kind}"
    recording: Any = edfio.Edf(edf_signals(kind)) if kind == "edf" else edfio.Bdf(edf_signals(kind))
    recording.write(path)
    written: Any = edfio.read_edf(path) if kind == "edf" else edfio.read_bdf(path)
    done = ecg("upload", str(path), "--id", f"from-{kind}", env=user_env)
    assert done.returncode == 0, done.stderr
    stored = json.loads(ecg("get", f"from-{kind}", env=user_env).stdout)
    assert [lead["name"] for lead in stored["leads"]] == ["ECG I", "ECG II"]
    for lead, channel in zip(stored["leads"], written.signals[:2], strict=True):
        assert lead["signal"] == channel.digital.tolist()
    assert stored["sampling_rate_hz"] == 250


def test_an_annotation_only_edf_is_refused(user_env: dict[str, str], tmp_path: Path) -> None:
    import edfio

    path = tmp_path / "annotations.edf"
    edfio.Edf([], annotations=[edfio.EdfAnnotation(0.5, None, "lights off")]).write(path)
    done = ecg("upload", str(path), env=user_env)
    assert done.returncode == 1
    assert "annotations only" in done.stderr


def test_a_dicom_12_lead_ecg_is_stored_with_the_same_leads_and_samples(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    path, samples = write_dicom_ecg(tmp_path / "cart.dcm", sensitivity_uv=2.5)
    done = ecg("upload", str(path), "--id", "from-dicom", "--wait", "--json", env=user_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "done"
    assert result["insights"]["heart_rate_bpm"] == pytest.approx(75, abs=1)
    stored = json.loads(ecg("get", "from-dicom", env=user_env).stdout)
    assert [lead["name"] for lead in stored["leads"]] == list(TWELVE_LEADS)
    assert [lead["signal"] for lead in stored["leads"]] == samples.T.tolist()
    assert {lead["units_per_mv"] for lead in stored["leads"]} == {400.0}
    assert stored["sampling_rate_hz"] == 500


def test_a_dicom_file_without_a_waveform_uploads_nothing(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    path, _ = write_dicom_ecg(tmp_path / "no-waveform.dcm", waveform=False)
    done = ecg("upload", str(path), env=user_env)
    assert done.returncode == 1
    assert done.stderr.strip() == f"ecg: {path}: the DICOM file holds no waveform"


def test_watch_prints_each_status_change_of_the_users_own_ecgs(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    command = [str(Path(sys.executable).with_name("ecg")), "watch"]
    watcher = subprocess.Popen(
        command, env=user_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(2)
        assert watcher.poll() is None, watcher.stderr.read() if watcher.stderr else ""
        path = tmp_path / "watched.csv"
        path.write_text("I\n" + "\n".join(str((i % 50) - 25) for i in range(2000)) + "\n")
        assert ecg("upload", str(path), "--id", "watched", env=user_env).returncode == 0
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "watched done"
    finally:
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=10) == 0
