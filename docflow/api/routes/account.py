"""The caller's own account: who the API takes them for, and their role in each project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from docflow.api.access import Access, Signed
from docflow.api.schemas import Me

router = APIRouter(tags=["account"])


@router.get("/me")
def me(access: Annotated[Access, Depends(Signed(None))]) -> Me:
    """The signed-in user (or the token's owner): name, admin or not, role per project."""
    who = access.principal
    return Me(
        name=who.name, admin=who.admin, via=who.method, grants={p: r.value for p, r in sorted(who.grants.items())}
    )
