"""The dashboard server: `streamlit run dashboard/launch.py` (what `xiangzhi dashboard` runs) serves
dashboard/app.py through st.App with two routes of its own, which set and clear the HttpOnly
session cookie (#19 item 14: no script can set an HttpOnly cookie, only a response can).

Older scripts imported the launcher from here: it lives in pipelines/serve.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # uvicorn imports this file as `launch` from dashboard/
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import RedirectResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from dashboard import auth  # noqa: E402
from pipelines.serve import APP, command, run  # noqa: E402,F401  (re-exported for older scripts)


def _back_to(request: Request) -> str:
    """Where to go after the route: a path on this server only (never `//host` or a full URL)."""
    nxt = request.query_params.get("next") or "/"
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"


def _set_cookie(resp: RedirectResponse, request: Request, token: str) -> None:
    exp = auth.token_expiry(token) or int(time.time())
    resp.set_cookie(
        auth.SESSION_COOKIE, token, max_age=max(0, exp - int(time.time())), path="/",
        httponly=True,  # no script (nor an injected one) can read or copy it
        samesite="strict",  # never sent with a request another site starts
        secure=request.url.scheme == "https",
    )


def sign_in_route(request: Request) -> RedirectResponse:
    token = auth.redeem_grant(request.query_params.get("grant"), auth.grant_binding(request.cookies))
    resp = RedirectResponse(_back_to(request) if token else "/", status_code=303)
    if token:
        _set_cookie(resp, request, token)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def sign_out_route(request: Request) -> RedirectResponse:
    auth.revoke_token(request.cookies.get(auth.SESSION_COOKIE))
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    resp.headers["Cache-Control"] = "no-store"
    return resp


app = st.App(
    "app.py",
    routes=[Route(auth.SIGN_IN_ROUTE, sign_in_route, methods=["GET"]),
            Route(auth.SIGN_OUT_ROUTE, sign_out_route, methods=["GET"])],
)
