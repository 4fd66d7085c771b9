"""Who is asking: one place that turns Jupyter's identity into an nbjobs owner, for REST and
Socket.IO alike.

Jupyter's stock IdentityProvider makes up a new anonymous user for every token-only request,
so a "room per username" would never match twice. With a stock provider the server has one
owner (single-user mode) and every authenticated request is that owner; with any other
provider (JupyterHub's, a deployment's own) the provider's ``username`` is the owner.
"""

from __future__ import annotations

import dataclasses
import getpass
import inspect
from typing import Any

from jupyter_server.auth.identity import (
    IdentityProvider,
    LegacyIdentityProvider,
    PasswordIdentityProvider,
)
from jupyter_server.base.handlers import JupyterHandler

__all__ = ["Identity", "identify_with_token", "identity_of", "is_single_user", "owner_name"]

STOCK_PROVIDERS = (IdentityProvider, PasswordIdentityProvider, LegacyIdentityProvider)


@dataclasses.dataclass(frozen=True)
class Identity:
    username: str
    token_authenticated: bool


def is_single_user(identity_provider: IdentityProvider, user_mode: str = "auto") -> bool:
    if user_mode != "auto":
        return user_mode == "single"
    return type(identity_provider) in STOCK_PROVIDERS


def owner_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return "owner"


def identity_of(handler: JupyterHandler, user: Any, *, single_user: bool) -> Identity | None:
    """The nbjobs identity of a request whose Jupyter user is already resolved."""
    if user is None:
        return None
    token_auth = bool(getattr(handler, "_token_authenticated", False))
    username = owner_name() if single_user else user.username
    return Identity(username=username, token_authenticated=token_auth)


async def identify_with_token(handler: JupyterHandler, token: str) -> Any:
    """Resolve a Jupyter user from a token the client sent in the Socket.IO ``auth`` payload.

    The IdentityProvider only reads tokens from requests, so the token is offered to it as the
    ``Authorization`` header of the handshake request the connection came from.
    """
    headers = handler.request.headers
    saved = headers.get("Authorization")
    headers["Authorization"] = f"token {token}"
    # The handshake's response is gone (or upgraded to a websocket, where tornado raises on
    # any header write), so the login cookie the provider would set has nowhere to go.
    saved_methods = {name: vars(handler).get(name) for name in ("set_cookie", "clear_cookie")}
    handler.set_cookie = handler.clear_cookie = _no_cookie  # type: ignore[method-assign]
    try:
        if hasattr(handler, "_jupyter_current_user"):
            del handler._jupyter_current_user
        user = handler.identity_provider.get_user(handler)
        if inspect.isawaitable(user):
            user = await user
        return user
    finally:
        if saved is None:
            del headers["Authorization"]
        else:
            headers["Authorization"] = saved
        for name, method in saved_methods.items():
            if method is None:
                delattr(handler, name)
            else:
                setattr(handler, name, method)


def _no_cookie(*args: Any, **kwargs: Any) -> None:
    return None
