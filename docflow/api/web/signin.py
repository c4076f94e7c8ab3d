"""Signing in and out: the token, once, for a signed, expiring, HttpOnly session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from docflow.api.auth import SESSION_COOKIE, TokenCheck
from docflow.api.deps import PageCaller, token_check
from docflow.api.web.render import render, safe_next

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: Annotated[str, Query(max_length=2000)] = "/ui/overview") -> HTMLResponse:
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    check: Annotated[TokenCheck, Depends(token_check)],
    token: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/ui/overview",
) -> Response:
    target = safe_next(next)
    if not check.valid_token(token.strip()):
        return render(request, "login.html", {"next": target, "error": "That token is not right."}, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        check.new_session(),
        max_age=int(check.session_seconds),
        httponly=True,
        samesite="strict",
        path="/",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("")
@router.get("/")
def home(caller: PageCaller) -> Response:
    return RedirectResponse("/ui/overview", status_code=303)
