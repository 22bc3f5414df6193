"""RFC 9457 problem details for every error, so clients never see a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from ecg_contracts.rest import FieldError, Problem
from pydantic import ValidationError

from ecg_gateway.auth.access import Forbidden
from ecg_gateway.services import EcgConflict, EcgNotFound, TooManySamples
from ecg_gateway.store.records import UsernameTaken

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
MAX_FIELD_ERRORS = 100


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(title=title, status=status, detail=detail, errors=errors)
        self.headers = dict(headers or {})


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=problem.status,
        body=problem.model_dump_json(exclude_none=True).encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "Forbidden", detail)


def not_found(detail: str) -> ProblemError:
    return ProblemError(404, "Not Found", detail)


def conflict(detail: str) -> ProblemError:
    return ProblemError(409, "Conflict", detail)


def invalid_body(error: ValidationError) -> ProblemError:
    """400 when the body is not JSON at all, else 422 with one message per field."""
    details = error.errors(include_url=False, include_input=False)
    if any(item["type"] == "json_invalid" for item in details):
        return ProblemError(400, "Bad Request", "the request body is not valid JSON")
    fields = [
        FieldError(field=".".join(str(part) for part in item["loc"]) or "body", message=item["msg"])
        for item in details[:MAX_FIELD_ERRORS]
    ]
    more = len(details) - len(fields)
    detail = "the request body failed validation"
    if more > 0:
        detail += f" ({more} further errors not listed)"
    return ProblemError(422, "Unprocessable Content", detail, fields)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProblemError as error:
        return problem_response(error.problem, error.headers)
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
        headers = {k: v for k, v in error.headers.items() if k.lower() in ("allow", "retry-after")}
        text = error.text or ""
        detail: str | None = None if text.startswith(f"{error.status}:") else text or None
        return problem_response(
            Problem(title=error.reason, status=error.status, detail=detail), headers
        )
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return problem_response(
            Problem(
                title="Internal Server Error", status=500, detail="an unexpected error occurred"
            )
        )
