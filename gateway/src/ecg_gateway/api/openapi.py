"""OpenAPI 3.1 document generated from the contract models, and an offline Swagger UI.

The UI's assets come from the installed ``swagger-ui-py`` package and are served by the
gateway itself, so ``/docs`` works without any network access.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import swagger_ui
from aiohttp import web
from ecg_contracts.rest import (
    ECG_EXAMPLE,
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


def _json(model: type[BaseModel], description: str, example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _ref(model)}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref(Problem)}},
    }


_UNAUTHORIZED = _problem(
    "Missing, malformed, expired or wrongly signed token (`WWW-Authenticate: Bearer`)."
)
_FORBIDDEN = _problem(
    "The caller's role may not do this (an admin on ECG routes, a user on user management)."
)
_NOT_FOUND = _problem("No such ECG for this caller (another user's ECG looks exactly the same).")
_INVALID = _problem("Validation failed: one entry in `errors` per offending field.")
_BAD_JSON = _problem("The body is not valid JSON.")
_ECG_ID = {"name": "ecg_id", "in": "path", "required": True, "schema": {"type": "string"}}
_PAGE = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    },
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string"},
        "description": "`next_cursor` of the previous page.",
    },
]
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def build_openapi() -> dict[str, Any]:
    _, definitions = models_json_schema(_MODELS, ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {
        "/auth/token": {
            "post": {
                "tags": ["auth"],
                "summary": "Exchange a username and password for a bearer token",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _ref(TokenRequest),
                            "example": {"username": "admin", "password": "adminpass"},
                        },
                        "application/x-www-form-urlencoded": {"schema": _ref(TokenRequest)},
                    },
                },
                "responses": {
                    "200": _json(
                        TokenResponse,
                        "A token.",
                        {"access_token": "eyJ...", "token_type": "bearer", "expires_in": 3600},
                    ),
                    "400": _BAD_JSON,
                    "401": _problem("Wrong username or password, or the user is disabled."),
                    "422": _INVALID,
                },
            }
        },
        "/users/": {
            "post": {
                "tags": ["users"],
                "summary": "Register a user (admin only)",
                "security": _BEARER,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _ref(UserCreate),
                            "example": {
                                "username": "alice",
                                "password": "alice-password",
                                "role": "user",
                            },
                        }
                    },
                },
                "responses": {
                    "201": _json(UserOut, "Created."),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "409": _problem("The username is taken."),
                    "422": _INVALID,
                },
            },
            "get": {
                "tags": ["users"],
                "summary": "List users by username (admin only)",
                "security": _BEARER,
                "parameters": _PAGE,
                "responses": {
                    "200": _json(UserPage, "A page of users."),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                },
            },
        },
        "/users/me": {
            "get": {
                "tags": ["users"],
                "summary": "The caller",
                "security": _BEARER,
                "responses": {"200": _json(UserOut, "The caller."), "401": _UNAUTHORIZED},
            }
        },
        "/users/{user_id}": {
            "patch": {
                "tags": ["users"],
                "summary": "Disable or enable a user (admin only); takes effect on existing tokens at once",
                "security": _BEARER,
                "parameters": [
                    {
                        "name": "user_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _ref(UserPatch),
                            "example": {"disabled": True},
                        }
                    },
                },
                "responses": {
                    "200": _json(UserOut, "The user after the change."),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "404": _problem("No such user."),
                    "422": _INVALID,
                },
            }
        },
        "/ecg/": {
            "post": {
                "tags": ["ecg"],
                "summary": "Submit an ECG for analysis (user only)",
                "description": "202 with `Location` when accepted; 200 with the same body when the same "
                "id and content were accepted before (an idempotent retry); 409 when the id is taken by "
                "different content.",
                "security": _BEARER,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref(EcgCreate), "example": ECG_EXAMPLE}
                    },
                },
                "responses": {
                    "202": _json(
                        EcgAccepted,
                        "Accepted; analysis pending.",
                        {"id": "visit-42", "status": "pending"},
                    ),
                    "200": _json(EcgAccepted, "An identical retry of an accepted ECG."),
                    "400": _BAD_JSON,
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "409": _problem("The id is taken by an ECG with different content."),
                    "413": _problem("The body exceeds the configured limit."),
                    "422": _INVALID,
                },
            },
            "get": {
                "tags": ["ecg"],
                "summary": "The caller's ECGs, newest first, without signals",
                "security": _BEARER,
                "parameters": _PAGE,
                "responses": {
                    "200": _json(EcgPage, "A page of ECGs."),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                },
            },
        },
        "/ecg/{ecg_id}": {
            "get": {
                "tags": ["ecg"],
                "summary": "One ECG with its signals (owner only)",
                "security": _BEARER,
                "parameters": [_ECG_ID],
                "responses": {
                    "200": _json(EcgOut, "The ECG."),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                },
            },
            "delete": {
                "tags": ["ecg"],
                "summary": "Delete an ECG with its signals and insights (owner only)",
                "security": _BEARER,
                "parameters": [_ECG_ID],
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                },
            },
        },
        "/ecg/{ecg_id}/insights": {
            "get": {
                "tags": ["ecg"],
                "summary": "The analysis status and insights (owner only); `Retry-After` while pending",
                "description": "With `wait`, a pending ECG's answer comes the moment its result is "
                "stored (by any gateway), or after `wait` seconds with `pending`: no need to poll.",
                "security": _BEARER,
                "parameters": [
                    _ECG_ID,
                    {
                        "name": "wait",
                        "in": "query",
                        "required": False,
                        "description": "Long poll: seconds to wait for the result while pending.",
                        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
                    },
                ],
                "responses": {
                    "200": _json(InsightsOut, "Status and insights."),
                    "400": _problem("`wait` is not a number in (0, 60]."),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                },
            }
        },
        "/ecg/events": {
            "get": {
                "tags": ["ecg"],
                "summary": "Server-Sent Events: the caller's ECGs' status changes (user only)",
                "description": "`text/event-stream`. Each stored result of one of the caller's ECGs "
                "is an `event: status` whose `id` is the event id and whose `data` is an "
                "`EcgStatusNotice`; never another user's. `: keep-alive` comments keep idle "
                "connections open; `event: resync` says changes may have been missed (the "
                "gateway's broker connection was rebuilt): re-read what you wait for.",
                "security": _BEARER,
                "responses": {
                    "200": {
                        "description": "The stream.",
                        "content": {
                            "text/event-stream": {
                                "schema": _ref(EcgStatusNotice),
                                "example": "event: status\nid: 5d0c...\ndata: "
                                '{"id": "visit-42", "status": "done", "links": '
                                '{"ecg": "/ecg/visit-42", "insights": "/ecg/visit-42/insights"}}\n\n',
                            }
                        },
                    },
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                },
            }
        },
        "/health/live": {
            "get": {
                "tags": ["operations"],
                "summary": "Liveness",
                "responses": {"200": {"description": "Alive."}},
            }
        },
        "/health/ready": {
            "get": {
                "tags": ["operations"],
                "summary": "Readiness: MongoDB answers a ping and the broker is connected",
                "responses": {
                    "200": {"description": "Ready."},
                    "503": {"description": "Not ready; `checks` says why."},
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["operations"],
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "Text exposition format."}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ECG gateway",
            "version": "1.0.0",
            "description": "Upload ECGs, read them back and their insights. Admins manage users and never see ECGs.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
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
