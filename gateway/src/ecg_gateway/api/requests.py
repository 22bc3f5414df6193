"""Request parsing: every way a client can get a body, a form or a query parameter wrong
becomes a problem with the right 4xx, before any use case runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import jiter
from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel, ValidationError

from ecg_gateway.api.problems import ProblemError, invalid_body

M = TypeVar("M", bound=BaseModel)

JSON_MEDIA_TYPE: Final = "application/json"
FORM_MEDIA_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
"""OAuth2's password flow sends the first; ``curl -F`` and older clients the second."""
CONTENT_CODINGS: Final = ("identity", "gzip", "deflate", "br", "zstd")
"""What aiohttp decodes with the gateway's dependencies (``br`` with Brotli, ``zstd`` with
backports.zstd); anything else is refused with 415 rather than read as JSON."""
UTF8_NAMES: Final = ("utf-8", "utf8")
UTF8_BOM: Final = b"\xef\xbb\xbf"
OTHER_UNICODE_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
ASCII_DIGITS = re.compile(r"[0-9]{1,9}")
DECIMAL = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?")
"""A plain decimal: no sign, exponent, ``inf`` or ``nan``, which ``float`` would take."""
EXACT_DUPLICATE_CHECK_BYTES = 65536


def bad_request(detail: str) -> ProblemError:
    return ProblemError(400, "Bad Request", detail)


def unsupported_media_type(detail: str) -> ProblemError:
    return ProblemError(415, "Unsupported Media Type", detail)


def _require_media_type(request: web.Request, accepted: tuple[str, ...]) -> None:
    if "Content-Type" not in request.headers:
        raise unsupported_media_type(f"send the body with Content-Type: {' or '.join(accepted)}")
    if request.content_type not in accepted:
        raise unsupported_media_type(
            f"Content-Type {request.content_type} is not accepted here: "
            f"send {' or '.join(accepted)}"
        )
    charset = request.charset
    if charset is not None and charset.lower() not in UTF8_NAMES:
        raise unsupported_media_type(f"charset {charset} is not accepted: the body must be UTF-8")


def _content_coding(request: web.Request) -> str:
    return request.headers.get("Content-Encoding", "identity").strip().lower()


async def _read_body(request: web.Request) -> bytes:
    coding = _content_coding(request)
    if coding not in CONTENT_CODINGS:
        raise unsupported_media_type(
            f"Content-Encoding {coding!r} is not supported: send one of {', '.join(CONTENT_CODINGS)}"
        )
    try:
        return await request.read()
    except web.RequestPayloadError:
        raise ProblemError(
            400,
            "Bad Request",
            f"the body could not be decoded as Content-Encoding {coding}",
            close_connection=True,
        ) from None


def _refuse_repeated_keys(raw: bytes) -> None:
    """The exact check: jiter parses again and names the first key given twice."""
    try:
        jiter.from_json(raw, allow_inf_nan=False, cache_mode="keys", catch_duplicate_keys=True)
    except ValueError as error:
        raise _not_json(str(error)) from None


def _refuse_other_unicode(raw: bytes) -> None:
    if raw.startswith(OTHER_UNICODE_BOMS) or b"\x00" in raw:
        raise bad_request("the body must be JSON encoded as UTF-8 (it looks like UTF-16 or UTF-32)")


def _not_json(message: str) -> ProblemError:
    if message.startswith("Detected duplicate key"):
        return bad_request(f"the body is ambiguous: {message}")
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return bad_request(f"the body must be JSON encoded as UTF-8: {message}")
    return bad_request(f"the request body is not valid JSON: {message}")


def validate(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_body(error) from None


def string_tokens(value: object) -> int:
    """JSON strings a validated body held: its keys and its string (or date) values."""
    if isinstance(value, BaseModel):
        fields = value.model_fields_set
        return len(fields) + sum(string_tokens(getattr(value, name)) for name in fields)
    if isinstance(value, str | datetime):
        return 1
    if isinstance(value, list) and value and isinstance(value[0], BaseModel | str):
        return sum(string_tokens(item) for item in value)
    return 0


def parse_json_body(raw: bytes, model: type[M]) -> M:
    """Validate in one pass with pydantic's JSON parser (a large ECG is 60,000 numbers), then
    make sure no key was given twice. Without a backslash every ``"`` delimits a string, so
    a body whose quotes are exactly twice its keys and string values repeats no key; small
    bodies, escaped ones and any mismatch get the exact check, which names the key."""
    _refuse_other_unicode(raw)
    raw = raw.removeprefix(UTF8_BOM)
    try:
        body = model.model_validate_json(raw)
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=False)
        invalid = [item for item in details if item["type"] == "json_invalid"]
        if invalid:
            raise _not_json(str(invalid[0]["msg"]).removeprefix("Invalid JSON: ")) from None
        raise invalid_body(error) from None
    if (
        len(raw) <= EXACT_DUPLICATE_CHECK_BYTES
        or b"\\" in raw
        or raw.count(b'"') != 2 * string_tokens(body)
    ):
        _refuse_repeated_keys(raw)
    return body


async def read_json(request: web.Request, model: type[M]) -> M:
    """A JSON body of ``model``, validated with the contract's strictness."""
    _require_media_type(request, (JSON_MEDIA_TYPE,))
    return parse_json_body(await _read_body(request), model)


async def read_json_or_form(request: web.Request, model: type[M], fields: tuple[str, ...]) -> M:
    """A JSON body, or a form (as OAuth2 password-flow clients send) of ``fields``."""
    _require_media_type(request, (JSON_MEDIA_TYPE, *FORM_MEDIA_TYPES))
    if request.content_type == JSON_MEDIA_TYPE:
        return parse_json_body(await _read_body(request), model)
    if _content_coding(request) != "identity":
        raise unsupported_media_type("forms are accepted without Content-Encoding only")
    try:
        form = await request.post()
    except web.HTTPException:
        raise
    except Exception as error:  # whatever a malformed form makes the parser raise
        raise bad_request(f"the form could not be read: {error}") from None
    return validate(model, single_values(form, fields))


def single_values(values: MultiMapping[Any], names: tuple[str, ...]) -> Mapping[str, Any]:
    """The named values, refusing any given twice (which one would win is ambiguous)."""
    chosen: dict[str, Any] = {}
    for name in names:
        given = values.getall(name, [])
        if len(given) > 1:
            raise bad_request(f"{name} is given {len(given)} times")
        if given:
            chosen[name] = given[0]
    return chosen


def query_value(request: web.Request, name: str) -> str | None:
    given = request.query.getall(name, [])
    if len(given) > 1:
        raise bad_request(f"the query parameter {name} is given {len(given)} times")
    return given[0] if given else None


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """ASCII digits only: ``str.isdigit`` also accepts superscripts that ``int`` refuses."""
    raw = query_value(request, name)
    if raw is None:
        return default
    if not ASCII_DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be an integer in {low}..{high}")
    return int(raw)


def decimal_query(request: web.Request, name: str, default: float, high: float) -> float:
    """Seconds as a plain decimal in ``0..high``, given once."""
    raw = query_value(request, name)
    if raw is None:
        return default
    if not DECIMAL.fullmatch(raw) or not 0 <= float(raw) <= high:
        raise bad_request(f"{name} must be a decimal number of seconds in 0..{high:g}")
    return float(raw)
