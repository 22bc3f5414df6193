"""Every setting the services read is in the README table, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

from ecg_analyzer.settings import AnalyzerSettings
from ecg_gateway.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]


def settings_variables() -> set[str]:
    names: set[str] = set()
    for settings in (GatewaySettings, AnalyzerSettings):
        prefix = settings.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in settings.model_fields}
    return names


def readme_table_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings-table:start -->")[1].split("<!-- settings-table:end -->")[0]
    return set(re.findall(r"^\| `(ECG_[A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def test_the_readme_table_lists_exactly_the_settings() -> None:
    assert readme_table_variables() == settings_variables()
