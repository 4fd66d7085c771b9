"""Find a Jupyter server with the nbjobs extension, without starting anything.

Candidates, in order (the first that answers with the extension wins):

1. an explicit ``nbjobs.connect(url, token)``;
2. ``NBJOBS_URL`` + ``NBJOBS_TOKEN``;
3. JupyterHub / Binder: ``JUPYTERHUB_SERVICE_PREFIX`` (base URL), ``JUPYTERHUB_API_TOKEN``,
   and the port of ``JUPYTERHUB_SERVICE_URL`` on 127.0.0.1, then that URL as written;
4. the server that started this kernel (its ``/api/sessions`` lists our kernel id);
5. any other running server on this machine that has the extension.

An explicit URL (1 or 2) that does not answer is an error rather than a reason to look further:
silently using another server would hide the misconfiguration.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from ..exceptions import ServerUnavailable

__all__ = ["ServerInfo", "discover", "explicit", "has_extension", "parse_server_url"]

PROBE_TIMEOUT = (2.0, 5.0)  # (connect, read) seconds for discovery requests


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """Where a server is and how to talk to it.

    ``url`` is the root (``http://127.0.0.1:8888``, no path); ``base_url`` is the server's
    base URL, escaped as the server writes it, with a trailing slash (``/a%40b/``).
    """

    url: str
    base_url: str
    token: str
    source: str = "explicit"

    def api_url(self, *parts: str | int) -> str:
        tail = "/".join(str(part) for part in parts)
        return f"{self.url}{self.base_url}nbjobs/api/{tail}"

    def absolute(self, path: str) -> str:
        """A server path such as ``/base/nbjobs/api/jobs/1/output`` as a full URL."""
        return f"{self.url}{path}"

    @property
    def socketio_path(self) -> str:
        return f"{self.base_url}nbjobs/socket.io"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"} if self.token else {}


def parse_server_url(url: str, token: str | None = None, *, source: str = "explicit") -> ServerInfo:
    """``http://host:port/base/?token=...`` -> ServerInfo; a token in the query is used if
    none is given."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServerUnavailable(f"Not a server URL: {url!r} (expected http://host:port/...).")
    if token is None:
        token = parse_qs(parts.query).get("token", [""])[0]
    base_url = parts.path or "/"
    if not base_url.endswith("/"):
        base_url += "/"
    return ServerInfo(f"{parts.scheme}://{parts.netloc}", base_url, token or "", source)


def has_extension(server: ServerInfo, *, session: requests.Session | None = None) -> bool:
    """True when the server answers the nbjobs REST API with this token."""
    getter = session.get if session is not None else requests.get
    try:
        response = getter(
            server.api_url("jobs"),
            params={"limit": 1},
            headers=server.auth_headers,
            timeout=PROBE_TIMEOUT,
        )
    except requests.RequestException:
        return False
    return response.status_code == 200


def explicit(url: str, token: str | None = None, *, source: str = "explicit") -> ServerInfo:
    """The server at ``url``, verified; raises ServerUnavailable with the reason otherwise."""
    server = parse_server_url(url, token, source=source)
    try:
        response = requests.get(
            server.api_url("jobs"),
            params={"limit": 1},
            headers=server.auth_headers,
            timeout=PROBE_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise ServerUnavailable(f"Cannot reach the Jupyter server at {url}: {exc}") from None
    if response.status_code in (401, 403):
        raise ServerUnavailable(
            f"The Jupyter server at {url} refused the token ({response.status_code})."
        )
    if response.status_code == 404:
        raise ServerUnavailable(
            f"The Jupyter server at {url} does not have the nbjobs extension enabled "
            "(--ServerApp.jpserver_extensions='{\"nbjobs\": True}')."
        )
    if response.status_code != 200:
        raise ServerUnavailable(
            f"The Jupyter server at {url} answered {response.status_code} to the nbjobs API."
        )
    return server


def _hub_candidates(env: dict[str, str]) -> Iterator[ServerInfo]:
    prefix, token = env.get("JUPYTERHUB_SERVICE_PREFIX"), env.get("JUPYTERHUB_API_TOKEN")
    service_url = env.get("JUPYTERHUB_SERVICE_URL")
    if not (prefix and token and service_url):
        return
    base_url = prefix if prefix.endswith("/") else prefix + "/"
    parts = urlsplit(service_url)
    # The single-user server often binds 0.0.0.0 or a pod name; loopback is the short way in.
    if parts.port:
        yield ServerInfo(f"http://127.0.0.1:{parts.port}", base_url, token, "jupyterhub")
    if parts.hostname not in (None, "127.0.0.1", "0.0.0.0", ""):
        yield ServerInfo(f"{parts.scheme}://{parts.netloc}", base_url, token, "jupyterhub")


def _kernel_id() -> str | None:
    """This kernel's id, from its connection file name (``kernel-<id>.json``); None outside one."""
    try:
        from ipykernel.connect import get_connection_file

        name = Path(get_connection_file()).name
    except Exception:  # not in a kernel (CLI, plain python, tests)
        return None
    if name.startswith("kernel-") and name.endswith(".json"):
        return name[len("kernel-") : -len(".json")]
    return None


def _running_servers() -> list[ServerInfo]:
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return []
    servers = []
    for info in list_running_servers():
        if not info.get("token") or not info.get("url"):
            continue  # password-only servers cannot be used without a browser login
        server = parse_server_url(info["url"], info["token"], source="running")
        servers.append(dataclasses.replace(server, base_url=info.get("base_url", server.base_url)))
    return servers


def _runs_kernel(server: ServerInfo, kernel_id: str) -> bool:
    try:
        response = requests.get(
            f"{server.url}{server.base_url}api/sessions",
            headers=server.auth_headers,
            timeout=PROBE_TIMEOUT,
        )
        sessions: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
    except (requests.RequestException, ValueError):
        return False
    return any((s.get("kernel") or {}).get("id") == kernel_id for s in sessions)


def _local_candidates() -> Iterator[ServerInfo]:
    servers = _running_servers()
    kernel_id = _kernel_id()
    if kernel_id:
        for server in servers:
            if _runs_kernel(server, kernel_id):
                yield dataclasses.replace(server, source="kernel")
                servers = [s for s in servers if s is not server]
                break
    yield from servers


def discover(
    url: str | None = None, token: str | None = None, *, env: dict[str, str] | None = None
) -> ServerInfo | None:
    """The first verified server, or None when nothing on this machine has the extension."""
    env = dict(os.environ) if env is None else env
    if url:
        return explicit(url, token)
    if env.get("NBJOBS_URL"):
        return explicit(env["NBJOBS_URL"], env.get("NBJOBS_TOKEN"), source="env")
    for candidate in (*_hub_candidates(env), *_local_candidates()):
        if has_extension(candidate):
            return candidate
    return None
