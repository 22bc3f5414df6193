"""HS256 access tokens; any other algorithm, ``none`` included, is refused."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

import jwt
from ecg_contracts.rest import Role

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    role: Role


class TokenService:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, subject: str, role: Role) -> str:
        now = int(time.time())
        payload = {"sub": subject, "role": role, "iat": now, "exp": now + self.ttl_s}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "role", "iat", "exp"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        if payload["role"] not in ("admin", "user") or not isinstance(payload["sub"], str):
            raise InvalidToken("unexpected claims")
        return Claims(subject=payload["sub"], role=cast(Role, payload["role"]))
