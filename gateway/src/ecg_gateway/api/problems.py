"""RFC 9457 problem details for every error, so clients never see a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from ecg_contracts.rest import FieldError, Problem
from pydantic import ValidationError

from ecg_gateway.auth.access import Forbidden
from ecg_gateway.auth.throttle import LoginThrottled
from ecg_gateway.model import UsernameTaken
from ecg_gateway.services import EcgConflict, EcgNotFound, TooManySamples

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
MAX_FIELD_ERRORS = 100
RFC9110_REASONS = {413: "Content Too Large", 422: "Unprocessable Content"}
"""Where RFC 9110 renamed a status that aiohttp still names the old way."""


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        close_connection: bool = False,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(title=title, status=status, detail=detail, errors=errors)
        self.headers = dict(headers or {})
        self.close_connection = close_connection
        """The rest of the body cannot be read: say ``Connection: close`` so the client does
        not reuse a connection the server is about to drop."""


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> web.Response:
    """The status line's reason is the problem's title (RFC 9110 names: 422 is
    "Unprocessable Content", which Python 3.11's table still calls "Entity")."""
    return web.Response(
        status=problem.status,
        reason=problem.title,
        body=problem.model_dump_json(exclude_none=True).encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


class UndecodableBodyNoise(logging.Filter):
    """Drops aiohttp's "Unhandled exception" for a body it could not decode (bad gzip, say)
    while draining it after the gateway already answered 400: a client's mistake, which
    must not page whoever watches the error logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, web.RequestPayloadError)


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "Forbidden", detail)


def not_found(detail: str) -> ProblemError:
    return ProblemError(404, "Not Found", detail)


def conflict(detail: str) -> ProblemError:
    return ProblemError(409, "Conflict", detail)


def invalid_body(error: ValidationError) -> ProblemError:
    """422 with one message per offending field."""
    details = error.errors(include_url=False, include_input=False)
    fields = [
        FieldError(field=".".join(str(part) for part in item["loc"]) or "body", message=item["msg"])
        for item in details[:MAX_FIELD_ERRORS]
    ]
    more = len(details) - len(fields)
    detail = "the request body failed validation"
    if more > 0:
        detail += f" ({more} further errors not listed)"
    return ProblemError(422, "Unprocessable Content", detail, fields)


STORE_RETRY_AFTER_S = "5"


def problem_middleware(unavailable: tuple[type[Exception], ...] = ()) -> Middleware:
    """Every error as problem+json, never a stack trace. ``unavailable`` are the store
    driver's errors that mean the database cannot be reached (503, not 500): the
    composition root names them, so this layer names no driver."""

    @web.middleware
    async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ProblemError as error:
            response = problem_response(error.problem, error.headers)
            if error.close_connection:
                response.force_close()
            return response
        except LoginThrottled as error:
            problem = Problem(title="Too Many Requests", status=429, detail=str(error))
            return problem_response(problem, {"Retry-After": error.retry_after_header})
        except unavailable as error:
            log.warning(
                "the database is unreachable", extra={"path": request.path, "error": repr(error)}
            )
            problem = Problem(
                title="Service Unavailable",
                status=503,
                detail="the database is unreachable; try again shortly",
            )
            return problem_response(problem, {"Retry-After": STORE_RETRY_AFTER_S})
        except Forbidden as error:
            return problem_response(forbidden(str(error)).problem)
        except EcgNotFound as error:
            return problem_response(not_found(f"no ECG with id {str(error)!r}").problem)
        except EcgConflict as error:
            message = f"an ECG with id {str(error)!r} already exists with different content"
            return problem_response(conflict(message).problem)
        except UsernameTaken as error:
            return problem_response(conflict(f"username {str(error)!r} is taken").problem)
        except TooManySamples as error:
            field = FieldError(field="leads", message=str(error))
            problem = Problem(
                title="Unprocessable Content", status=422, detail=str(error), errors=[field]
            )
            return problem_response(problem)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            headers = {
                k: v for k, v in error.headers.items() if k.lower() in ("allow", "retry-after")
            }
            text = error.text or ""
            detail: str | None = None if text.startswith(f"{error.status}:") else text or None
            title = RFC9110_REASONS.get(error.status, error.reason)
            return problem_response(
                Problem(title=title, status=error.status, detail=detail), headers
            )
        except Exception:
            log.exception("unhandled error", extra={"path": request.path})
            return problem_response(
                Problem(
                    title="Internal Server Error", status=500, detail="an unexpected error occurred"
                )
            )

    return problems
