"""Serving: the HTTP API and the web app, over one shared `Service`."""

from __future__ import annotations

import os
import socket

from smolsql.errors import SmolsqlError


def check_port(host: str, port: int) -> None:
    """Say now, before a model loads, that `host:port` cannot be listened on (taken, or no
    such address), rather than after it with the server's own error."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise SmolsqlError(f"cannot listen on {host}:{port}: {why} (--host, --port)") from None
