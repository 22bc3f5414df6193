"""JSON bodies: one meaning or a 400, whichever path a body's size and escapes take."""

from __future__ import annotations

import json

import pytest
from ecg_contracts.rest import EcgCreate
from ecg_gateway.api.problems import ProblemError
from ecg_gateway.api.requests import EXACT_DUPLICATE_CHECK_BYTES, parse_json_body

SIGNAL = ", ".join(str((i * 37) % 2001 - 1000) for i in range(20_000))


def body(head: str = '"id": "big", ', lead: str = '"name": "I", ') -> bytes:
    return f'{{{head}"leads": [{{{lead}"signal": [{SIGNAL}]}}]}}'.encode()


def test_a_large_body_takes_the_counting_path_and_is_accepted() -> None:
    raw = body()
    assert len(raw) > EXACT_DUPLICATE_CHECK_BYTES
    assert b"\\" not in raw
    parsed = parse_json_body(raw, EcgCreate)
    assert parsed.id == "big"
    assert len(parsed.leads[0].signal) == 20_000


@pytest.mark.parametrize(
    ("head", "lead", "key"),
    [
        ('"id": "a", "id": "big", ', '"name": "I", ', "id"),
        ('"id": 5, "id": "big", ', '"name": "I", ', "id"),
        ('"id": "big", ', '"name": "II", "name": "I", ', "name"),
        ('"id": "big", ', '"name": "I", "signal": [1], ', "signal"),
        ('"sampling_rate_hz": 1, "sampling_rate_hz": 2, ', '"name": "I", ', "sampling_rate_hz"),
    ],
)
def test_a_key_given_twice_in_a_large_body_is_400_naming_it(head: str, lead: str, key: str) -> None:
    with pytest.raises(ProblemError) as refused:
        parse_json_body(body(head, lead), EcgCreate)
    assert refused.value.problem.status == 400
    assert f'"{key}"' in (refused.value.problem.detail or "")


@pytest.mark.parametrize(
    "lead",
    [
        '"name": "I\\\\", ',  # an escaped backslash before the closing quote
        '"name": "I\\"x", ',  # an escaped quote inside the name
    ],
)
def test_escapes_take_the_exact_path(lead: str) -> None:
    parsed = parse_json_body(body(lead=lead), EcgCreate)
    assert parsed.leads[0].name == json.loads(f"{{{lead[:-2]}}}")["name"]
    with pytest.raises(ProblemError) as refused:
        parse_json_body(body('"id": "x", "id": "big", ', lead), EcgCreate)
    assert '"id"' in (refused.value.problem.detail or "")
