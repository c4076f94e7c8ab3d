"""Signing in and out: a name and a password (throttled, CSRF-protected), or an OIDC provider when
one is configured, for a session cookie; signing out ends the session on the server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from docflow.api.access import Access, Public, Signed
from docflow.api.auth import SESSION_COOKIE
from docflow.api.csrf import SIGN_IN_COOKIE, keep_sign_in_nonce, sign_in_nonce
from docflow.api.deps import SettingsDep, address_of
from docflow.api.oidc import claimed_name
from docflow.api.web.render import render, safe_next
from docflow.ops.access.credentials import end_session, start_session
from docflow.ops.access.signin import sign_in
from docflow.ops.access.users import enabled_user_id
from docflow.ops.audit import Actor, record

router = APIRouter(prefix="/ui", include_in_schema=False)
Anyone = Annotated[None, Depends(Public(page=True))]
SignedIn = Annotated[Access, Depends(Signed(None, page=True))]
Next = Annotated[str, Query(max_length=2000)]


def _login_page(request: Request, target: str, error: str | None, status_code: int = 200) -> HTMLResponse:
    # The form's CSRF token is bound to a nonce in a cookie of its own (no session exists yet).
    nonce = sign_in_nonce(request)
    response = render(
        request,
        "login.html",
        {"next": target, "error": error, "oidc": request.app.state.oidc is not None,
         "oidc_label": request.app.state.settings.oidc_label,
         "sign_in_token": request.app.state.credentials.csrf_token(nonce)},
        status_code,
    )  # fmt: skip
    keep_sign_in_nonce(response, nonce)
    return response


def _signed_in(request: Request, *, user_id: int, method: str, target: str) -> Response:
    settings = request.app.state.settings
    session_id = start_session(
        user_id=user_id, method=method, address=address_of(request), hours=settings.session_hours
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        request.app.state.credentials.session_cookie(session_id),
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/ui/login")
    return response


@router.get("/login")
def login_form(request: Request, _: Anyone, next: Next = "/ui/overview") -> HTMLResponse:
    return _login_page(request, safe_next(next), None)


@router.post("/login")
async def login(
    request: Request,
    settings: SettingsDep,
    _: Anyone,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/ui/overview",
) -> Response:
    target = safe_next(next)
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    if not nonce or not request.app.state.credentials.csrf_valid(nonce, csrf_token):
        return _login_page(request, target, "The sign-in form expired: please sign in again.", 403)
    result = await run_in_threadpool(sign_in, name.strip(), password, address=address_of(request), settings=settings)
    if result.user_id is None:
        return _login_page(request, target, result.refusal, 429 if result.throttled else 401)
    return await run_in_threadpool(_signed_in, request, user_id=result.user_id, method="password", target=target)


@router.post("/logout")
def logout(request: Request, access: SignedIn) -> Response:
    session_id = getattr(request.state, "session_id", None)
    if session_id:
        end_session(session_id)
    record(access.principal.actor, "sign-out")
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/login/oidc")
async def oidc_start(request: Request, _: Anyone, next: Next = "/ui/overview") -> Response:
    """Off to the OIDC provider (404 when none is configured)."""
    client = request.app.state.oidc
    if client is None:
        return render(request, "missing.html", {"what": "single sign-on on this installation"}, 404)
    request.session["next"] = safe_next(next)
    return await client.authorize_redirect(request, str(request.url_for("oidc_callback")))


@router.get("/login/oidc/callback")
async def oidc_callback(request: Request, settings: SettingsDep, _: Anyone) -> Response:
    """Back from the provider: the code is exchanged, the ID token verified, the user signed in."""
    client = request.app.state.oidc
    if client is None:
        return render(request, "missing.html", {"what": "single sign-on on this installation"}, 404)
    target = safe_next(request.session.pop("next", None))
    from authlib.integrations.starlette_client import OAuthError

    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        record(Actor("anonymous", address_of(request)), "sign-in", outcome="failed",
               detail={"method": "oidc", "reason": exc.error or "refused"})  # fmt: skip
        return _login_page(request, target, "Single sign-on did not complete; please try again.", 401)
    name = claimed_name(token, settings.oidc_user_claim)
    user_id = await run_in_threadpool(enabled_user_id, name) if name else None
    actor = Actor(f"user:{name}" if user_id else "anonymous", address_of(request), user_id)
    if user_id is None:
        record(actor, "sign-in", outcome="failed", detail={"method": "oidc", "reason": "no enabled user"})
        return _login_page(request, target, "No enabled docflow user matches that identity.", 403)
    record(actor, "sign-in", target=name, detail={"method": "oidc"})
    return await run_in_threadpool(_signed_in, request, user_id=user_id, method="oidc", target=target)


@router.get("")
@router.get("/")
def home(_: SignedIn) -> Response:
    return RedirectResponse("/ui/overview", status_code=303)


root = APIRouter(include_in_schema=False)


@root.get("/")
def start_page(_: Annotated[None, Depends(Public(page=True))]) -> RedirectResponse:
    return RedirectResponse("/ui/overview", status_code=303)
