"""What guards the door: headers on every answer (CSP, nosniff, Referrer-Policy), CORS for
/api only, and the limit on a request body's size.

/embed may be framed by the origins of the ``frame_ancestors`` setting (default
any); every other path only by this site. Never ``X-Frame-Options``: it cannot
allow a list of origins, and a browser that sees it ignores frame-ancestors.
A route that sets its own header (a page's CSP) keeps it.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings, split_list


def content_security_policy(frame_ancestors: str) -> str:
    """Scripts from this app only (no inline, no eval); Plotly needs inline styles, data: images."""
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


def is_embed(path: str) -> bool:
    return path == "/embed" or path.startswith("/embed/")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        self.embed_headers = self._headers(frame_ancestors)
        self.other_headers = self._headers("'self'")

    @staticmethod
    def _headers(frame_ancestors: str) -> dict[str, str]:
        return {"Content-Security-Policy": content_security_policy(frame_ancestors),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.embed_headers if is_embed(scope["path"]) else self.other_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ApiCors:
    """CORS for /api/…, from the ``cors_origins`` setting; never with credentials."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_credentials=False,
                                   allow_methods=["GET", "POST"],
                                   allow_headers=["Content-Type", "If-None-Match"],
                                   expose_headers=["ETag"], max_age=86_400)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class BodyLimit:
    """Refuse a body over ``max_bytes`` with 413, whether announced by Content-Length or not.

    The refusal is raised as an HTTPException where the body is read, so it is
    answered by the app's handlers (JSON naming the limit) inside the other middleware.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        too_large = declared.isdigit() and int(declared) > self.max_bytes
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            if too_large:
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited_receive, send)


def secure(app: FastAPI, settings: Settings) -> None:
    """Add the middleware; the headers go outermost, so even a refusal carries them."""
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiCors, origins=split_list(settings.cors_origins))
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
