from __future__ import annotations

from typing import Any

import pytest
from ecg_contracts.rest import EcgCreate, TokenRequest
from pydantic import ValidationError


def lead(**overrides: Any) -> dict[str, Any]:
    return {"name": "I", "signal": [1, -1, 2], **overrides}


def test_a_minimal_ecg_is_valid() -> None:
    ecg = EcgCreate.model_validate({"leads": [lead()]})
    assert ecg.id is None
    assert ecg.date is None
    assert ecg.leads[0].signal == [1, -1, 2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"leads": []}, "leads"),
        ({"leads": [lead(name="")]}, "leads.0.name"),
        ({"leads": [lead(name="x" * 33)]}, "leads.0.name"),
        ({"leads": [lead(name="I\x00x")]}, "leads.0.name"),
        ({"leads": [lead(name="V1\n")]}, "leads.0.name"),
        ({"leads": [lead(), lead()]}, "leads"),
        ({"leads": [lead(number_of_samples=4)]}, "leads.0"),
        ({"leads": [lead(signal=[])]}, "leads.0.signal"),
        ({"leads": [lead(signal=[1.5])]}, "leads.0.signal.0"),
        ({"leads": [lead(signal=[True])]}, "leads.0.signal.0"),
        ({"leads": [lead(signal=["1"])]}, "leads.0.signal.0"),
        ({"leads": [lead(signal=[2**31])]}, "leads.0.signal.0"),
        ({"sampling_rate_hz": 0, "leads": [lead()]}, "sampling_rate_hz"),
        ({"sampling_rate_hz": 100_001, "leads": [lead()]}, "sampling_rate_hz"),
        ({"id": "has space", "leads": [lead()]}, "id"),
        ({"id": "x" * 129, "leads": [lead()]}, "id"),
        ({"date": "yesterday", "leads": [lead()]}, "date"),
        ({"leads": [lead()], "surprise": 1}, "surprise"),
    ],
)
def test_invalid_ecgs_name_the_offending_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EcgCreate.model_validate_json(__import__("json").dumps(body))
    fields = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
    assert field in fields


@pytest.mark.parametrize("username", [{"$ne": ""}, ["admin"], 1, None])
def test_login_fields_must_be_strings(username: object) -> None:
    with pytest.raises(ValidationError):
        TokenRequest.model_validate({"username": username, "password": "x"})
