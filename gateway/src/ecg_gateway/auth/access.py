"""Who may do what: plain rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from ecg_contracts.rest import Role


class Forbidden(Exception):
    """The caller is known but its role may not do this."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: Role


def ensure_may_manage_users(principal: Principal) -> None:
    if principal.role != "admin":
        raise Forbidden("only an admin manages users")


def ensure_may_use_ecgs(principal: Principal) -> None:
    """Admins manage accounts and never see health data."""
    if principal.role != "user":
        raise Forbidden("an admin may not send or read ECGs")
