"""The HTML pages (/, /explore, /embed), /static, and Plotly.js served from the `plotly` package.

Each page is one Jinja template plus one ES module; what the module needs from the
server arrives once, as JSON in a ``<script type="application/json">`` block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from plotly.offline import get_plotlyjs_version

from core import limits

ROOT = Path(__file__).resolve().parent.parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PLOTLY_VERSION = get_plotlyjs_version()
# Versioned, so browsers may keep it for good; a plotly upgrade changes the URL.
PLOTLY_PATH = f"/static/vendor/plotly-{PLOTLY_VERSION}.min.js"

templates = Jinja2Templates(directory=ROOT / "templates")
router = APIRouter(include_in_schema=False)

PAGES = {
    "compare": "Clipping, side by side",
    "explore": "Explorer",
    "embed": "Gradient clipping on the cliff",
}


def page_data(page: str) -> dict[str, Any]:
    """What a page needs from the server: the choices the API accepts, from core.limits."""
    return {
        "page": page,
        "plotly": PLOTLY_PATH,
        "choices": {
            "activation": list(limits.ACTIVATIONS),
            "optimizer": list(limits.OPTIMIZERS),
            "clip": list(limits.CLIPS),
            "on_nonfinite": list(limits.ON_NONFINITE),
        },
    }


def render(request: Request, page: str) -> HTMLResponse:
    data = page_data(page)
    # The Content-Security-Policy (script-src 'self', frame-ancestors) comes from app.security.
    return templates.TemplateResponse(
        request,
        f"{page}.html",
        {"page": page, "title": PAGES[page], "data": data, "choices": data["choices"],
         "plotly_path": PLOTLY_PATH},
    )


@router.get("/", response_class=HTMLResponse)
async def compare(request: Request) -> HTMLResponse:
    """Fig. 10.17 of Deep Learning, live: descent without and with clipping, side by side."""
    return render(request, "compare")


@router.get("/explore", response_class=HTMLResponse)
async def explore(request: Request) -> HTMLResponse:
    """One surface, contour and 3-D, up to eight runs with every option."""
    return render(request, "explore")


@router.get("/embed", response_class=HTMLResponse)
async def embed(request: Request) -> HTMLResponse:
    """What / shows, without the site's chrome, for an <iframe> on a course page."""
    return render(request, "embed")


@router.get(PLOTLY_PATH)
async def plotly_js() -> FileResponse:
    return FileResponse(
        PLOTLY_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def mount_pages(app: FastAPI) -> None:
    """Add the pages, then /static: the Plotly route must come first, /static would shadow it."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
