from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from ecg_gateway.auth.tokens import InvalidToken, TokenService

SECRET = "unit-test-secret-" + "x" * 64


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_an_issued_token_verifies_with_its_subject_and_role() -> None:
    service = TokenService(SECRET, ttl_s=60)
    claims = service.verify(service.issue("user-1", "user"))
    assert (claims.subject, claims.role) == ("user-1", "user")


def test_the_token_carries_sub_role_iat_and_exp() -> None:
    token = TokenService(SECRET, ttl_s=60).issue("u", "admin")
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert set(payload) == {"sub", "role", "iat", "exp"}
    assert payload["exp"] - payload["iat"] == 60


def test_an_expired_token_is_refused() -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "u", "role": "user", "iat": now - 120, "exp": now - 60}, SECRET, algorithm="HS256"
    )
    with pytest.raises(InvalidToken):
        TokenService(SECRET, 60).verify(token)


def test_an_unsigned_alg_none_token_is_refused() -> None:
    now = int(time.time())
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'u', 'role': 'admin', 'iat': now, 'exp': now + 60})}."
    with pytest.raises(InvalidToken):
        TokenService(SECRET, 60).verify(token)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(algorithm: str) -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "u", "role": "user", "iat": now, "exp": now + 60}, SECRET, algorithm=algorithm
    )
    with pytest.raises(InvalidToken):
        TokenService(SECRET, 60).verify(token)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = TokenService("another-secret-" + "y" * 64, 60).issue("u", "user")
    with pytest.raises(InvalidToken):
        TokenService(SECRET, 60).verify(token)


def test_a_token_without_a_role_is_refused() -> None:
    now = int(time.time())
    token = jwt.encode({"sub": "u", "iat": now, "exp": now + 60}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        TokenService(SECRET, 60).verify(token)
