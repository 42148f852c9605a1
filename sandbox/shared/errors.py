"""One error shape for every failure: `{"detail": ..., "field": ..., "rule": ...}`.

Clients (the AI assistant above all) correct themselves from errors, so every 4xx says in words
what went wrong (`detail`), which input caused it (`field`, or null), and which rule refused it
(`rule`, a stable machine-readable name listed in docs/BUSINESS_RULES.md). FastAPI's own
validation errors and Starlette's 404/405 are converted to the same shape here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

_RULE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    422: "validation_error",
    429: "rate_limited",
}


class ApiError(Exception):
    """An expected failure with its HTTP status, message, offending field and rule name."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        rule: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.rule = rule
        self.field = field
        self.headers = headers


def not_found(entity: str, *, field: str | None = None) -> ApiError:
    """404 for a missing id AND for an id of another organization: existence is not revealed."""
    return ApiError(404, f"{entity} not found", rule="not_found", field=field)


def conflict(detail: str, *, rule: str, field: str | None = None) -> ApiError:
    """409: the request is valid but clashes with the current state (duplicate, wrong status)."""
    return ApiError(409, detail, rule=rule, field=field)


def unprocessable(detail: str, *, rule: str, field: str | None = None) -> ApiError:
    """422: the request breaks a rule about its own content."""
    return ApiError(422, detail, rule=rule, field=field)


def forbidden(detail: str, *, rule: str = "permission_denied") -> ApiError:
    """403: authenticated, but the role lacks the permission (or the resource is not theirs)."""
    return ApiError(403, detail, rule=rule)


def error_body(detail: str, rule: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"detail": detail, "field": field, "rule": rule, **extra}


def error_response(
    status_code: int, detail: str, rule: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    """A JSONResponse carrying `error_body(...)`; used by middlewares too."""
    return JSONResponse(error_body(detail, rule, field, **extra), status_code=status_code)


def _field_from_loc(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or None


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        message = str(err.get("msg", "invalid value"))
        out.append({"field": _field_from_loc(err.get("loc", ())), "detail": message, "type": err["type"]})
    return out


async def _api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    response = error_response(exc.status_code, exc.detail, exc.rule, exc.field)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    first = errors[0] if errors else {"field": None, "detail": "invalid request", "type": "invalid"}
    field = first["field"]
    detail = f"{field}: {first['detail']}" if field else str(first["detail"])
    return error_response(422, detail, str(first["type"]), field, errors=errors)


async def _http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    rule = _RULE_BY_STATUS.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    response = error_response(exc.status_code, detail, rule)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected_error_handler(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(500, "Internal server error", "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception kind to the one error shape."""
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)
