"""Request parsing: every way a client can get a body, a form or a query parameter wrong
becomes a problem with the right 4xx, before any use case runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


async def _read_body(request: web.Request) -> bytes:
    coding = request.headers.get("Content-Encoding", "identity").strip().lower()
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


def decode_json(raw: bytes) -> Any:
    """Parse UTF-8 JSON (RFC 8259): no NaN or Infinity, no key twice in one object."""
    if raw.startswith(OTHER_UNICODE_BOMS) or b"\x00" in raw:
        raise bad_request("the body must be JSON encoded as UTF-8 (it looks like UTF-16 or UTF-32)")
    try:
        return jiter.from_json(
            raw.removeprefix(UTF8_BOM),
            allow_inf_nan=False,
            cache_mode="keys",
            catch_duplicate_keys=True,
        )
    except ValueError as error:
        message = str(error)
        if message.startswith("Detected duplicate key"):
            raise bad_request(f"the body is ambiguous: {message}") from None
        if message.startswith("invalid unicode code point"):
            raise bad_request(f"the body must be JSON encoded as UTF-8: {message}") from None
        raise bad_request(f"the request body is not valid JSON: {message}") from None


def validate(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_body(error) from None


async def read_json(request: web.Request, model: type[M]) -> M:
    """A JSON body of ``model``, validated with the contract's strictness."""
    _require_media_type(request, (JSON_MEDIA_TYPE,))
    return validate(model, decode_json(await _read_body(request)))


async def read_json_or_form(request: web.Request, model: type[M], fields: tuple[str, ...]) -> M:
    """A JSON body, or a form (as OAuth2 password-flow clients send) of ``fields``."""
    _require_media_type(request, (JSON_MEDIA_TYPE, *FORM_MEDIA_TYPES))
    if request.content_type == JSON_MEDIA_TYPE:
        return validate(model, decode_json(await _read_body(request)))
    coding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if coding != "identity":
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
