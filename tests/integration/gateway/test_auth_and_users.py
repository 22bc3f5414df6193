from __future__ import annotations

import time

import jwt
import pytest

from tests.integration.gateway.conftest import JWT_SECRET, Gateway, GatewayFactory

pytestmark = pytest.mark.integration


async def test_the_default_admin_logs_in_with_json_or_a_form(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/token", json={"username": "admin", "password": "adminpass"}
    )
    body = await response.json()
    assert response.status == 200
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == gateway.settings.jwt_ttl_s
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["role"] == "admin"

    form = await gateway.client.post(
        "/auth/token", data={"username": "admin", "password": "adminpass"}
    )
    assert form.status == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "admin", "password": "wrong"},
        {"username": "nobody", "password": "adminpass"},
    ],
)
async def test_bad_credentials_get_401(gateway: Gateway, credentials: dict[str, str]) -> None:
    response = await gateway.client.post("/auth/token", json=credentials)
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "body",
    [
        {"username": {"$ne": ""}, "password": {"$ne": ""}},
        {"username": ["admin"], "password": "adminpass"},
        {"username": "admin"},
    ],
)
async def test_login_input_is_data_never_a_query(gateway: Gateway, body: object) -> None:
    response = await gateway.client.post("/auth/token", json=body)
    assert response.status == 422
    assert response.content_type == "application/problem+json"


async def test_the_admin_creates_users_and_a_taken_name_gets_409(gateway: Gateway) -> None:
    admin = await gateway.admin()
    body = {"username": f"bob-{gateway.unique}", "password": "password-123"}
    created = await gateway.client.post("/users/", json=body, headers=admin)
    assert created.status == 201
    user = await created.json()
    assert user["username"] == body["username"]
    assert user["role"] == "user"
    again = await gateway.client.post("/users/", json=body, headers=admin)
    assert again.status == 409
    assert again.content_type == "application/problem+json"


async def test_a_user_may_not_create_users(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/users/",
        json={"username": f"eve-{gateway.unique}", "password": "password-123"},
        headers=user,
    )
    assert response.status == 403


def forged(claims: dict[str, object], key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


async def test_missing_malformed_expired_or_forged_tokens_get_401(gateway: Gateway) -> None:
    _, user_id = await gateway.new_user()
    now = int(time.time())
    unsigned = jwt.encode(
        {"sub": user_id, "role": "user", "iat": now, "exp": now + 60}, key=None, algorithm="none"
    )
    tokens = {
        "missing": None,
        "malformed": "Bearer not-a-jwt",
        "wrong scheme": "Basic YWRtaW46YWRtaW5wYXNz",
        "expired": "Bearer "
        + forged({"sub": user_id, "role": "user", "iat": now - 100, "exp": now - 10}),
        "wrong key": "Bearer "
        + forged({"sub": user_id, "role": "user", "iat": now, "exp": now + 60}, key="x" * 64),
        "alg none": f"Bearer {unsigned}",
        "unknown user": "Bearer "
        + forged({"sub": "no-such-user", "role": "user", "iat": now, "exp": now + 60}),
    }
    for case, header in tokens.items():
        headers = {"Authorization": header} if header else {}
        response = await gateway.client.get("/ecg/any", headers=headers)
        assert response.status == 401, case
        assert response.headers["WWW-Authenticate"] == "Bearer", case
        assert response.content_type == "application/problem+json", case


async def test_users_me_and_admin_listing_in_pages(gateway: Gateway) -> None:
    admin = await gateway.admin()
    for index in range(5):
        await gateway.new_user(f"page{index}")
    me = await gateway.client.get("/users/me", headers=admin)
    assert (await me.json())["role"] == "admin"
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = await (await gateway.client.get("/users/", params=query, headers=admin)).json()
        seen += [user["username"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    assert seen == sorted(seen)


async def test_a_disabled_users_tokens_stop_working_at_once(gateway: Gateway) -> None:
    user, user_id = await gateway.new_user()
    assert (await gateway.client.get("/users/me", headers=user)).status == 200
    admin = await gateway.admin()
    patched = await gateway.client.patch(
        f"/users/{user_id}", json={"disabled": True}, headers=admin
    )
    assert patched.status == 200
    assert (await patched.json())["disabled"] is True
    assert (await gateway.client.get("/users/me", headers=user)).status == 401
    login = await gateway.client.post(
        "/auth/token", json={"username": f"user-{gateway.unique}", "password": "password-123"}
    )
    assert login.status == 401
    await gateway.client.patch(f"/users/{user_id}", json={"disabled": False}, headers=admin)
    assert (await gateway.client.get("/users/me", headers=user)).status == 200


async def test_start_up_warns_while_the_admin_has_the_default_password(
    caplog: pytest.LogCaptureFixture, make_gateway: GatewayFactory
) -> None:
    await make_gateway()
    assert any("development default password" in r.getMessage() for r in caplog.records)


async def test_no_warning_once_the_admin_password_is_not_the_default(
    caplog: pytest.LogCaptureFixture, make_gateway: GatewayFactory
) -> None:
    await make_gateway(admin_password="a-strong-admin-password")
    assert not any("development default password" in r.getMessage() for r in caplog.records)
