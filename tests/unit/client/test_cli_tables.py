"""The ``ecg insights`` tables: each lead's quality, with its time without QRS."""

from __future__ import annotations

from ecg_client.cli import leads_table
from ecg_contracts.insights import Insights, LeadInsights, Stretch
from rich.console import Console


def lead(name: str, **fields: object) -> LeadInsights:
    base: dict[str, object] = {
        "name": name,
        "number_of_samples": 3600,
        "zero_crossings": 3,
        "min": -10,
        "max": 900,
        "mean": 1.0,
        "std": 2.0,
    }
    return LeadInsights.model_validate(base | fields)


def rendered(insights: Insights) -> str:
    console = Console(width=200, record=True)
    console.print(leads_table(insights))
    return console.export_text()


def test_a_lead_silent_where_the_others_went_on_says_for_how_long() -> None:
    insights = Insights(
        leads=[
            lead("MLII", clipping=True, unreadable=[Stretch(start_s=2.6, end_s=7.0)]),
            lead("V5", unreadable=[]),
        ]
    )
    lines = rendered(insights).splitlines()
    [mlii] = [line for line in lines if "MLII" in line]
    [v5] = [line for line in lines if "V5" in line]
    assert "clipping, no QRS for 4.4 s" in mlii
    assert v5.rstrip().rstrip("│ ").endswith("ok")
