"""Refusals: every bad request gets 422 (or 413) naming the field and what is allowed.

FastAPI's own 422 echoes the offending input, which cannot be rendered when it is a
NaN, an infinity or a lone surrogate (the answer would be a 500); these handlers
answer with the field, the allowed range and pydantic's reason, never the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .schemas import ALLOWED

# What FastAPI raises when a body is not JSON that Python can read (nested too
# deeply, or an integer of thousands of digits); it is bad input like any other.
_BODY_PARSE_ERROR = "There was an error parsing the body"
_SHOWN_MAX = 200  # characters of a field name quoted back


class InputError(Exception):
    """A request that passed the schema but not a rule across fields or a work budget."""

    def __init__(self, loc: Sequence[str | int], msg: str, kind: str = "value_error",
                 status_code: int = 422) -> None:
        super().__init__(msg)
        self.loc = tuple(loc)
        self.msg = msg
        self.kind = kind
        self.status_code = status_code


def _safe(text: str) -> str:
    """``text`` with lone surrogates escaped, so that it can always be encoded."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _text(value: object) -> str:
    text = _safe(str(value))
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "…"


def error_body(loc: Sequence[Any], msg: str, kind: str) -> dict[str, list[dict[str, Any]]]:
    safe_loc = [part if isinstance(part, int) else _text(part) for part in loc]
    return {"detail": [{"loc": safe_loc, "msg": _safe(msg), "type": kind}]}


def _explain(error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    kind = str(error.get("type", "value_error"))
    msg = str(error.get("msg", "invalid"))
    if kind == "json_invalid":
        msg = f"The body is not valid JSON: {_text(error.get('ctx', {}).get('error', msg))}"
    field = next((part for part in reversed(loc) if isinstance(part, str)), None)
    if field in ALLOWED and kind != "extra_forbidden":
        msg = f"{field} must be {ALLOWED[field]}: {msg}"
    return error_body(loc, msg, kind)["detail"][0]


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": [_explain(e) for e in exc.errors()]}, status_code=422)


async def _input_error(request: Request, exc: InputError) -> JSONResponse:
    return JSONResponse(error_body(exc.loc, exc.msg, exc.kind), status_code=exc.status_code)


def _http_error(max_body_bytes: int):
    async def handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:
            return JSONResponse(error_body(
                ["body"], f"The body is larger than the limit of {max_body_bytes} bytes "
                "(setting CLIFFSCAPE_MAX_BODY_BYTES).", "body_too_large"), status_code=413)
        if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
            return JSONResponse(error_body(
                ["body"], "The body is not JSON that can be read: it is nested too deeply "
                "or holds a number too long to parse.", "json_invalid"), status_code=422)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    return handler


def install(app: FastAPI, max_body_bytes: int) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(InputError, _input_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error(max_body_bytes))
