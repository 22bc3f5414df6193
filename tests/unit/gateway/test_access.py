from __future__ import annotations

import pytest
from ecg_gateway.auth.access import (
    Forbidden,
    Principal,
    ensure_may_manage_users,
    ensure_may_use_ecgs,
)

ADMIN = Principal("a", "admin", "admin")
USER = Principal("u", "alice", "user")


def test_users_use_ecgs_and_admins_do_not() -> None:
    ensure_may_use_ecgs(USER)
    with pytest.raises(Forbidden):
        ensure_may_use_ecgs(ADMIN)


def test_admins_manage_users_and_users_do_not() -> None:
    ensure_may_manage_users(ADMIN)
    with pytest.raises(Forbidden):
        ensure_may_manage_users(USER)
