"""What an HTTP server is configured with: its store, its write token and its CORS origins,
given directly (tests) or through the environment (`tariffs serve` and its workers)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tariff_timeline.bootstrap import ENV_DB
from tariff_timeline.domain.errors import InvalidInput

ENV_TOKEN = "TARIFFS_API_TOKEN"
"""The bearer token that enables writes (POST /v1/import, /v1/correct)."""
ENV_TOKEN_FILE = "TARIFFS_API_TOKEN_FILE"
"""A file holding the token (what `tariffs serve --token-file` passes to its workers)."""
ENV_CORS = "TARIFFS_API_CORS_ORIGINS"
"""Origins allowed to call the API from a browser, comma-separated (none by default)."""


@dataclass(frozen=True)
class ApiSettings:
    """A server's store URL (None: TARIFFS_DB or the embedded default), the token that enables
    writes (None: writes are refused) and the origins CORS allows (empty: CORS is off)."""

    db: str | None = None
    token: str | None = None
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> ApiSettings:
        """Settings from TARIFFS_DB, TARIFFS_API_TOKEN (or TARIFFS_API_TOKEN_FILE) and
        TARIFFS_API_CORS_ORIGINS."""
        token = os.environ.get(ENV_TOKEN) or None
        token_file = os.environ.get(ENV_TOKEN_FILE)
        if token is None and token_file:
            token = read_token(Path(token_file))
        origins = tuple(o.strip() for o in os.environ.get(ENV_CORS, "").split(",")
                        if o.strip())
        return cls(db=os.environ.get(ENV_DB) or None, token=token, cors_origins=origins)


def read_token(path: Path) -> str:
    """The token in a file (its first line, without surrounding white space)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field="token_file") from exc
    if len(token) < 16:
        raise InvalidInput(f"{path}: a token has at least 16 characters", field="token_file")
    return token
