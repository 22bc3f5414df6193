"""OpenAPI 3.1 document generated from the contract models, and an offline Swagger UI.

The UI's assets come from the installed ``swagger-ui-py`` package and are served by the
gateway itself, so ``/docs`` works without any network access.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import swagger_ui
from aiohttp import web
from ecg_contracts.rest import (
    EcgAccepted,
    EcgCreate,
    EcgOut,
    EcgPage,
    EcgStatusNotice,
    InsightsOut,
    Problem,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserOut,
    UserPage,
    UserPatch,
)
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from ecg_gateway.api.problems import PROBLEM_JSON
from ecg_gateway.api.requests import FORM_MEDIA_TYPES
from ecg_gateway.api.routes import OPERATIONS, Operation, Reply

SWAGGER_STATIC = Path(swagger_ui.__file__).parent / "static"
_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (EcgCreate, "validation"),
    (TokenRequest, "validation"),
    (UserCreate, "validation"),
    (UserPatch, "validation"),
    (EcgAccepted, "serialization"),
    (EcgOut, "serialization"),
    (EcgPage, "serialization"),
    (EcgStatusNotice, "serialization"),
    (InsightsOut, "serialization"),
    (TokenResponse, "serialization"),
    (UserOut, "serialization"),
    (UserPage, "serialization"),
    (Problem, "serialization"),
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _problem(description: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return _reply(Reply(description, media_type=PROBLEM_JSON, headers=headers or {}))


def _reply(reply: Reply) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    model = Problem if reply.media_type == PROBLEM_JSON else reply.model
    if model is not None or reply.media_type != "application/json":
        content: dict[str, Any] = {"schema": _ref(model) if model else {"type": "string"}}
        if reply.example is not None:
            content["example"] = reply.example
        answer["content"] = {reply.media_type: content}
    if reply.headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in reply.headers.items()
        }
    if reply.links:
        answer["links"] = {name: dict(link) for name, link in reply.links.items()}
    return answer


def _bad_request(operation: Operation) -> str | None:
    reasons = []
    if operation.body is not None:
        reasons.append(
            "the body is not JSON, not UTF-8, gives a key twice in one object or cannot be "
            "decoded as its `Content-Encoding`"
        )
        if operation.body.form:
            reasons.append("a form is unreadable or gives a field twice")
    queries = [param.name for param in operation.params if param.location == "query"]
    if queries:
        names = ", ".join(f"`{name}`" for name in queries)
        reasons.append(f"a query parameter ({names}) is malformed, out of range or repeated")
    return "; ".join(reasons).capitalize() + "." if reasons else None


def generic_replies(operation: Operation) -> dict[int, dict[str, Any]]:
    """The answers that follow from what the operation reads and who may call it."""
    replies: dict[int, dict[str, Any]] = {}
    bad_request = _bad_request(operation)
    if bad_request:
        replies[400] = _problem(bad_request)
    if operation.access != "public":
        replies[401] = _problem(
            "Missing, malformed, expired or wrongly signed token, or its user is disabled.",
            {"WWW-Authenticate": "`Bearer`."},
        )
    if operation.access in ("user", "admin"):
        other = "an admin" if operation.access == "user" else "a user"
        replies[403] = _problem(f"The caller is {other}: only the {operation.access} role may.")
    if operation.body is not None:
        replies[413] = _problem("The body exceeds the configured limit (`ECG_MAX_BODY_BYTES`).")
        media = "`application/json`" + (" or a form" if operation.body.form else "")
        replies[415] = _problem(
            f"The body is not {media}, its charset is not UTF-8, or its `Content-Encoding` "
            "is not one of identity, gzip, deflate, br, zstd."
        )
        replies[422] = _problem("Validation failed: one entry in `errors` per offending field.")
    if operation.throttled:
        replies[429] = _problem(
            "Too many failed logins for this username or from this address; try again after "
            "`Retry-After` seconds.",
            {"Retry-After": "Seconds until the next attempt is allowed."},
        )
    if operation.uses_store:
        replies[503] = _problem(
            "The database is unreachable; try again after `Retry-After` seconds.",
            {"Retry-After": "Seconds to wait."},
        )
    return replies


def _operation(operation: Operation) -> dict[str, Any]:
    replies = generic_replies(operation)
    replies.update({status: _reply(reply) for status, reply in operation.replies.items()})
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "tags": [operation.tag],
        "summary": operation.summary,
    }
    if operation.description:
        document["description"] = operation.description
    if operation.access != "public":
        document["security"] = [{"oauth2": []}, {"bearer": []}]
    if operation.params:
        document["parameters"] = [
            {
                "name": param.name,
                "in": param.location,
                "required": param.location == "path",
                "schema": dict(param.schema),
                **({"description": param.description} if param.description else {}),
            }
            for param in operation.params
        ]
    if operation.body is not None:
        content: dict[str, Any] = {
            "application/json": {
                "schema": _ref(operation.body.model),
                "example": operation.body.example,
            }
        }
        if operation.body.form:
            for media_type in FORM_MEDIA_TYPES:
                content[media_type] = {"schema": _ref(operation.body.model)}
        document["requestBody"] = {"required": True, "content": content}
    document["responses"] = {str(status): replies[status] for status in sorted(replies)}
    return document


def build_openapi(operations: tuple[Operation, ...] = OPERATIONS) -> dict[str, Any]:
    _, definitions = models_json_schema(_MODELS, ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ECG gateway",
            "version": "1.0.0",
            "description": "Upload ECGs, read them back and their insights. Admins manage "
            "users and never see ECGs.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Log in with a username and password at `/auth/token`.",
                    "flows": {"password": {"tokenUrl": "/auth/token", "scopes": {}}},
                },
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ECG gateway API</title>
  <link rel="stylesheet" href="/docs/static/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/static/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""

DOCS_INIT_JS = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
});
"""


def add_docs_routes(app: web.Application) -> None:
    document = build_openapi()

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=DOCS_HTML, content_type="text/html")

    async def init_js(request: web.Request) -> web.Response:
        return web.Response(text=DOCS_INIT_JS, content_type="application/javascript")

    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/docs", docs)
    app.router.add_get("/docs/init.js", init_js)
    app.router.add_static("/docs/static", SWAGGER_STATIC)
