"""All of cliffscape's configuration, read once from the environment (prefix CLIFFSCAPE_)."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A CSP source or CORS origin: *, 'self', 'none', a scheme (https:) or
# [scheme://][*.]host[:port]; nothing that could end the directive or add another.
_SOURCE = re.compile(r"^(\*|'self'|'none'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?"
                     r"[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d+|\*))?)$", re.IGNORECASE)


def split_list(value: str) -> list[str]:
    """'a b, c' → ['a', 'b', 'c']: lists in settings may use spaces or commas."""
    return [item for item in re.split(r"[\s,]+", value.strip()) if item]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLIFFSCAPE_")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    # Origins that may embed /embed in an <iframe> (CSP frame-ancestors); "*" is any.
    # Every other page may only be framed by this site itself ('self').
    frame_ancestors: str = "*"
    # Origins allowed to call /api from another site's JavaScript (CORS); "*" is any.
    # Never with credentials: it is a public, read-only teaching API.
    cors_origins: str = "*"
    # Compile or load the Numba kernels before the first request is taken.
    warm_up: bool = True
    # Largest request body accepted (bytes); a bigger one gets 413.
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # Heavy computations allowed at once (the rest wait their turn); light ones
    # (at most light_work time steps of the recurrence) have their own slots, so
    # that a heavy request never holds up the default view.
    heavy_slots: int = Field(2, ge=1)
    light_slots: int = Field(8, ge=1)
    light_work: int = Field(10_000_000, ge=0)
    # Total size of the rendered surfaces kept in memory (bytes); 0 turns caching off.
    surface_cache_bytes: int = Field(128 * 1024 * 1024, ge=0)
    # How long a browser, proxy or CDN may reuse a GET answer (seconds).
    cache_max_age: int = Field(86_400, ge=0)
    # Points computed per step of a stream: small, so an abandoned stream stops soon.
    stream_chunk: int = Field(256, ge=1)

    @field_validator("frame_ancestors", "cors_origins")
    @classmethod
    def _sources(cls, value: str) -> str:
        items = split_list(value)
        if not items:
            raise ValueError("give at least one origin, or * for any")
        for item in items:
            if not _SOURCE.match(item):
                raise ValueError(f"{item!r} is not an origin like https://example.org, 'self' or *")
        return " ".join(items)


@lru_cache
def get_settings() -> Settings:
    return Settings()
