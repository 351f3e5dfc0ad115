"""The ``cliffscape`` command: serve the app with uvicorn (host, port and workers from settings)."""

from __future__ import annotations

import argparse

import uvicorn

from .config import get_settings


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="cliffscape", description=__doc__)
    parser.add_argument("--host", default=settings.host, help="default: %(default)s")
    parser.add_argument("--port", type=int, default=settings.port, help="default: %(default)s")
    parser.add_argument("--workers", type=int, default=settings.workers,
                        help="worker processes (default: %(default)s)")
    args = parser.parse_args(argv)
    uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers,
                proxy_headers=True, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
