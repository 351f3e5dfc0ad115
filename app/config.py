"""All of cliffscape's configuration, read once from the environment (prefix CLIFFSCAPE_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLIFFSCAPE_")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Origins that may embed /embed in an <iframe> (CSP frame-ancestors); "*" is any.
    frame_ancestors: str = "*"
    # Origins allowed to call /api from another site's JavaScript (CORS); "*" is any.
    cors_origins: str = "*"
    # Compile or load the Numba kernels before the first request is taken.
    warm_up: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
