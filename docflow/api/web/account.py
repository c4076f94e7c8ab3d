"""The signed-in user's own page: their grants, a new password, and their personal API tokens
(created — shown once —, listed, revoked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from docflow.api.access import Access, Signed
from docflow.api.inputs import FreeText
from docflow.api.web.render import render
from docflow.core.models import MAX_ID
from docflow.ops.access.credentials import create_token, revoke_token, user_tokens
from docflow.ops.access.passwords import PasswordError
from docflow.ops.access.users import password_matches, set_password

router = APIRouter(prefix="/ui/account", include_in_schema=False)
Myself = Annotated[Access, Depends(Signed(None, page=True))]


def _page(request: Request, access: Access, *, new_token: str | None = None, error: str | None = None,
          status_code: int = 200) -> HTMLResponse:  # fmt: skip
    tokens = user_tokens(user_id=access.principal.user_id)
    return render(
        request,
        "account.html",
        {"tokens": tokens, "new_token": new_token, "error": error,
         "default_days": request.app.state.settings.token_days},
        status_code,
    )  # fmt: skip


@router.get("")
def account(request: Request, access: Myself) -> HTMLResponse:
    return _page(request, access)


@router.post("/password")
async def change_password(
    request: Request,
    access: Myself,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """A new password for oneself: the current one first; every other session of the user ends."""
    who = access.principal
    if not await run_in_threadpool(password_matches, who.user_id, current):
        access.record("password-set", outcome="refused", target=who.name)
        return await run_in_threadpool(
            _page, request, access, error="The current password is not right.", status_code=400
        )
    if new != repeat:
        return await run_in_threadpool(_page, request, access, error="The two new passwords differ.", status_code=400)
    try:
        await run_in_threadpool(
            lambda: set_password(who.name, new, by=who.actor, keep_session=getattr(request.state, "session_id", None))
        )
    except PasswordError as exc:
        return await run_in_threadpool(_page, request, access, error=str(exc), status_code=400)
    return RedirectResponse("/ui/account?notice=Password+changed", status_code=303)


@router.post("/tokens")
def new_token(
    request: Request,
    access: Myself,
    name: Annotated[FreeText, Form(min_length=1, max_length=128)] = "token",
    days: Annotated[int, Form(ge=1, le=3650)] = 90,
) -> HTMLResponse:
    """A new personal API token, shown on this answer only (it is kept as a hash)."""
    token, info = create_token(user_id=access.principal.user_id, name=name, days=days)
    access.record("token-create", target=f"token {info.id}", detail={"name": info.name, "days": days})
    return _page(request, access, new_token=token, status_code=201)


@router.post("/tokens/{token_id}/revoke")
def revoke(access: Myself, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    revoked = revoke_token(user_id=access.principal.user_id, token_id=token_id)
    access.record("token-revoke", target=f"token {token_id}", outcome="ok" if revoked else "refused")
    notice = "Token+revoked" if revoked else "No+such+token"
    return RedirectResponse(f"/ui/account?notice={notice}", status_code=303)
