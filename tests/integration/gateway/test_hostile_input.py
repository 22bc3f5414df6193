"""What a careless or hostile client can send: each answer is a problem with the right 4xx,
and the OpenAPI document the gateway serves lists it for that operation."""

from __future__ import annotations

import gzip
import json
from typing import Any

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.gateway.conftest import Gateway, GatewayFactory

pytestmark = pytest.mark.integration

LEAD = {"name": "I", "signal": [1, -2, 3]}
JSON = {"Content-Type": "application/json"}


async def documented(gateway: Gateway, method: str, path: str) -> set[int]:
    document = await (await gateway.client.get("/openapi.json")).json()
    return {int(status) for status in document["paths"][path][method.lower()]["responses"]}


async def assert_problem(
    gateway: Gateway,
    response: Any,
    status: int,
    operation: tuple[str, str],
    mentions: str | None = None,
) -> dict[str, Any]:
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/problem+json", text
    problem: dict[str, Any] = json.loads(text)
    assert problem["status"] == status
    assert "Traceback" not in text
    if mentions is not None:
        assert mentions.lower() in text.lower(), text
    assert status in await documented(gateway, *operation), f"{status} undocumented"
    return problem


def field_names(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


# --- 1, 2: forms and encodings at the token endpoint -----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"x",
        b'--b\r\nContent-Disposition: form-data; name="X\x04"\r\n\r\n{}\r\n--b--\r\n',
        b"--b\r\nno headers at all",
    ],
)
@pytest.mark.parametrize("boundary", ["", "; boundary=b"])
async def test_an_unreadable_multipart_login_is_400(
    gateway: Gateway, body: bytes, boundary: str
) -> None:
    response = await gateway.client.post(
        "/auth/token", data=body, headers={"Content-Type": f"multipart/form-data{boundary}"}
    )
    await assert_problem(gateway, response, 400, ("POST", "/auth/token"), "form")


async def test_a_body_that_is_not_the_gzip_it_claims_is_400(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/token", data=b"{}", headers={**JSON, "Content-Encoding": "gzip"}
    )
    await assert_problem(gateway, response, 400, ("POST", "/auth/token"), "gzip")


async def test_gzip_and_brotli_bodies_are_read_and_unknown_codings_are_415(
    gateway: Gateway,
) -> None:
    credentials = json.dumps({"username": "admin", "password": "adminpass"}).encode()
    for coding, encoded in (
        ("gzip", gzip.compress(credentials)),
        ("br", brotli.compress(credentials)),
    ):
        response = await gateway.client.post(
            "/auth/token", data=encoded, headers={**JSON, "Content-Encoding": coding}
        )
        assert response.status == 200, await response.text()
    response = await gateway.client.post(
        "/auth/token", data=credentials, headers={**JSON, "Content-Encoding": "compress"}
    )
    await assert_problem(gateway, response, 415, ("POST", "/auth/token"), "Content-Encoding")


async def test_a_multipart_login_works(gateway: Gateway) -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin\r\n'
        b'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nadminpass\r\n--b--\r\n'
    )
    response = await gateway.client.post(
        "/auth/token", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status == 200, await response.text()


async def test_the_oauth2_password_form_logs_in(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "admin", "password": "adminpass"},
    )
    assert response.status == 200, await response.text()
    document = await (await gateway.client.get("/openapi.json")).json()
    oauth2 = document["components"]["securitySchemes"]["oauth2"]
    assert oauth2["flows"]["password"]["tokenUrl"] == "/auth/token"


async def test_a_form_giving_a_field_twice_is_400(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/auth/token",
        data=b"username=admin&username=other&password=adminpass",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await assert_problem(gateway, response, 400, ("POST", "/auth/token"), "username")


# --- 3, 5: query parameters --------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["%C2%B2", "501", "0", "-1", "1.0", "%EF%BC%91", "1&limit=2"])
async def test_listing_limits_are_ascii_integers_in_range_given_once(
    gateway: Gateway, limit: str
) -> None:
    user, _ = await gateway.new_user()
    admin = await gateway.admin()
    for path, headers in (("/ecg/", user), ("/users/", admin)):
        response = await gateway.client.get(f"{path}?limit={limit}", headers=headers)
        await assert_problem(gateway, response, 400, ("GET", path), "limit")


async def test_a_long_query_string_still_gets_a_problem(gateway: Gateway) -> None:
    admin = await gateway.admin()
    response = await gateway.client.get(f"/users/?limit={'9' * 20_000}", headers=admin)
    await assert_problem(gateway, response, 400, ("GET", "/users/"), "limit")


@pytest.mark.parametrize("wait", ["%C2%B2", "nan", "inf", "1e1", "0", "61", "1_0"])
async def test_wait_is_a_plain_decimal_in_range(gateway: Gateway, wait: str) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.get(f"/ecg/some-id/insights?wait={wait}", headers=user)
    await assert_problem(gateway, response, 400, ("GET", "/ecg/{ecg_id}/insights"), "wait")


# --- 4, 6: strict types and dates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "0001-01-01T00:00:00+01:00", "leads": [LEAD]}, "date"),
        ({"date": "9999-12-31T23:59:59-23:59", "leads": [LEAD]}, "date"),
        ({"date": 0, "leads": [LEAD]}, "date"),
        ({"date": "1700000000", "leads": [LEAD]}, "date"),
        ({"date": "2026-11-28", "leads": [LEAD]}, "date"),
        ({"sampling_rate_hz": "500", "leads": [LEAD]}, "sampling_rate_hz"),
        ({"sampling_rate_hz": True, "leads": [LEAD]}, "sampling_rate_hz"),
        ({"leads": [{**LEAD, "number_of_samples": "3"}]}, "leads.0.number_of_samples"),
        ({"leads": [{**LEAD, "number_of_samples": 3.0}]}, "leads.0.number_of_samples"),
        ({"leads": [{**LEAD, "signal": [1.0, 2]}]}, "leads.0.signal.0"),
        ({"id": 7, "leads": [LEAD]}, "id"),
    ],
)
async def test_no_coercion_and_no_date_utc_cannot_hold(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post("/ecg/", json=body, headers=user)
    problem = await assert_problem(gateway, response, 422, ("POST", "/ecg/"))
    assert field in field_names(problem), problem
    assert response.reason == "Unprocessable Content"


async def test_an_offset_date_is_stored_in_utc(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    body = {"id": "dated", "date": "2026-11-28T10:00:00+02:00", "leads": [LEAD]}
    assert (await gateway.client.post("/ecg/", json=body, headers=user)).status == 202
    stored = await (await gateway.client.get("/ecg/dated", headers=user)).json()
    assert stored["date"].startswith("2026-11-28T08:00:00")


# --- 7: lead names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "I\u0085",
        "I\u0092",
        "I\u2028",
        "I\u2029",
        "I\u200b",
        "\u202eI",
        "I\ue000",
        "I\ufeff",
        "I\x7f",
    ],
)
async def test_invisible_or_disguising_characters_are_refused_in_lead_names(
    gateway: Gateway, name: str
) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", json={"leads": [{**LEAD, "name": name}]}, headers=user
    )
    problem = await assert_problem(gateway, response, 422, ("POST", "/ecg/"))
    assert "leads.0.name" in field_names(problem)


async def test_lead_names_are_one_lead_however_their_accents_are_typed(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    twice = {"leads": [{**LEAD, "name": "\u00e9"}, {**LEAD, "name": "e\u0301"}]}
    response = await gateway.client.post("/ecg/", json=twice, headers=user)
    problem = await assert_problem(gateway, response, 422, ("POST", "/ecg/"), "more than once")
    assert "leads" in field_names(problem)

    decomposed = "e\u0301" * 17
    body = {"id": "accents", "leads": [{**LEAD, "name": decomposed}]}
    assert (await gateway.client.post("/ecg/", json=body, headers=user)).status == 202
    stored = await (await gateway.client.get("/ecg/accents", headers=user)).json()
    assert stored["leads"][0]["name"] == "\u00e9" * 17

    too_long = {"leads": [{**LEAD, "name": "e\u0301" * 33}]}
    response = await gateway.client.post("/ecg/", json=too_long, headers=user)
    await assert_problem(gateway, response, 422, ("POST", "/ecg/"), "after NFC")


# --- 8: media types, charsets, duplicate keys, NaN, methods --------------------------------------

BODY = json.dumps({"leads": [LEAD]})


@pytest.mark.parametrize(
    ("headers", "data", "status", "mentions"),
    [
        ({"Content-Type": "text/plain"}, BODY.encode(), 415, "application/json"),
        ({}, BODY.encode(), 415, "application/json"),
        ({"Content-Type": "application/json; charset=latin-1"}, BODY.encode(), 415, "UTF-8"),
        (JSON, BODY.encode("utf-16"), 400, "UTF-8"),
        (JSON, '{"leads": [{"name": "\u00e9", "signal": [1]}]}'.encode("latin-1"), 400, "UTF-8"),
        (JSON, b'{"id": "a1", "id": "a2", "leads": [{"name": "I", "signal": [1]}]}', 400, "id"),
        (JSON, b'{"leads": [{"name": "I", "signal": [1], "signal": [2]}]}', 400, "signal"),
        (
            JSON,
            b'{"sampling_rate_hz": NaN, "leads": [{"name": "I", "signal": [1]}]}',
            422,
            "finite",
        ),
        (JSON, b"[" * 5000 + b"]" * 5000, 400, "JSON"),
        (JSON, b"", 400, "JSON"),
    ],
    ids=[
        "text-plain",
        "no-content-type",
        "latin-1-charset",
        "utf-16",
        "latin-1-bytes",
        "id-twice",
        "signal-twice",
        "nan",
        "deep-nesting",
        "empty",
    ],
)
async def test_bodies_that_are_not_utf8_json_of_one_meaning_are_refused(
    gateway: Gateway, headers: dict[str, str], data: bytes, status: int, mentions: str
) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", data=data, headers={"Content-Type": "", **headers, **user}
    )
    await assert_problem(gateway, response, status, ("POST", "/ecg/"), mentions)
    listing = await (await gateway.client.get("/ecg/", headers=user)).json()
    assert listing["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "documented_as"),
    [
        ("POST", "/users/", ("POST", "/users/")),
        ("PATCH", "/users/some-id", ("PATCH", "/users/{user_id}")),
    ],
)
async def test_an_empty_body_is_400_and_documented(
    gateway: Gateway, method: str, path: str, documented_as: tuple[str, str]
) -> None:
    response = await gateway.client.request(method, path, headers={**JSON, **await gateway.admin()})
    await assert_problem(gateway, response, 400, documented_as, "JSON")


async def test_other_methods_get_405_with_the_allowed_ones(gateway: Gateway) -> None:
    admin = await gateway.admin()
    response = await gateway.client.patch("/users/me", json={"disabled": True}, headers=admin)
    assert response.status == 405, await response.text()
    assert response.content_type == "application/problem+json"
    assert response.headers["Allow"] == "GET, HEAD"
    response = await gateway.client.options("/users/me", headers=admin)
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"
    response = await gateway.client.put("/ecg/", headers=admin)
    assert response.status == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "GET", "HEAD"}


async def test_every_body_operation_documents_400_413_415_and_422(gateway: Gateway) -> None:
    document = await (await gateway.client.get("/openapi.json")).json()
    with_body = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(with_body) == 4
    for path, method, operation in with_body:
        assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)


# --- login throttling ----------------------------------------------------------------------------


async def login(gateway: Gateway, username: str, password: str) -> Any:
    return await gateway.client.post(
        "/auth/token", json={"username": username, "password": password}
    )


async def test_failed_logins_back_off_per_username_and_address(
    make_gateway: GatewayFactory,
) -> None:
    gateway = await make_gateway(login_max_failures=3)
    _, _ = await gateway.new_user("victim")
    victim = f"victim-{gateway.unique}"
    for _ in range(3):
        assert (await login(gateway, victim, "wrong-password")).status == 401
    throttled = await login(gateway, victim, "password-123")
    await assert_problem(gateway, throttled, 429, ("POST", "/auth/token"), "retry")
    assert 1 <= int(throttled.headers["Retry-After"]) <= 2
    other = await login(gateway, "someone-else", "whatever-password")
    assert other.status == 429, "the address is throttled too"


# --- fuzzed bodies ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
lead_like = st.fixed_dictionaries(
    {"name": st.text(max_size=40), "signal": st.lists(json_scalars, max_size=8)},
    optional={"number_of_samples": json_scalars, "extra": json_values},
)
ecg_like = st.fixed_dictionaries(
    {"leads": st.lists(lead_like, max_size=3) | json_values},
    optional={
        "id": st.text(max_size=20) | json_scalars,
        "date": st.datetimes().map(lambda d: d.isoformat()) | json_scalars,
        "sampling_rate_hz": json_scalars,
    },
)
odd_bytes = st.one_of(
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=400).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=300, max_value=5000).map(lambda digits: b"[" + b"9" * digits + b"]"),
    st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@pytest.fixture
async def user(gateway: Gateway) -> dict[str, str]:
    headers, _ = await gateway.new_user()
    return headers


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.one_of(ecg_like.map(lambda value: json.dumps(value).encode()), odd_bytes))
async def test_no_body_gets_a_5xx(gateway: Gateway, user: dict[str, str], body: bytes) -> None:
    response = await gateway.client.post("/ecg/", data=body, headers={**JSON, **user})
    text = await response.text()
    assert response.status in {200, 202, 400, 409, 413, 415, 422}, text
    if response.status >= 400:
        assert response.content_type == "application/problem+json", text
