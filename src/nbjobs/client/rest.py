"""REST to one nbjobs server: a ``requests.Session`` with its token, and errors turned back
into the nbjobs exceptions the server raised (``exceptions.error_class_for``)."""

from __future__ import annotations

from typing import Any

import requests

from ..exceptions import NbJobsError, ServerUnavailable, error_class_for
from .discovery import ServerInfo

__all__ = ["REST_TIMEOUT", "RestClient", "error_for"]

REST_TIMEOUT = (5.0, 120.0)  # (connect, read) seconds


def error_for(response: requests.Response) -> NbJobsError:
    """The nbjobs exception for an error answer ``{"message": ..., "error"?: ...}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or response.reason or f"HTTP {response.status_code}")
    status = response.status_code
    if status in (401, 403):
        return NbJobsError(
            f"The Jupyter server refused the nbjobs token ({status}): {message}", status=status
        )
    return error_class_for(body.get("error"), status)(message, status=status)


class RestClient:
    """The REST API of the server ``server``, authenticated with its token."""

    def __init__(self, server: ServerInfo) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers.update(server.auth_headers)

    # -- REST --------------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", REST_TIMEOUT)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise ServerUnavailable(
                f"Cannot reach the nbjobs server at {self.server.url}{self.server.base_url}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise error_for(response)
        return response

    def get_json(self, *parts: str | int, **params: Any) -> Any:
        return self.request("GET", self.server.api_url(*parts), params=params or None).json()

    def post_json(self, *parts: str | int, **kwargs: Any) -> Any:
        return self.request("POST", self.server.api_url(*parts), **kwargs).json()

    def get_bytes(self, path: str, **kwargs: Any) -> bytes:
        """GET a server path (``/base/nbjobs/api/...``) and return the body."""
        return self.request("GET", self.server.absolute(path), **kwargs).content

    def download(self, path: str, destination: str, **kwargs: Any) -> int:
        """Stream a server path to a local file; returns the bytes written."""
        written = 0
        url = self.server.absolute(path)
        with (
            self.request("GET", url, stream=True, **kwargs) as response,
            open(destination, "wb") as handle,
        ):
            for block in response.iter_content(1 << 20):
                written += handle.write(block)
        return written
