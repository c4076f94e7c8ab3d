"""A project's webhook: set it (its secret is shown once), read it, remove it, and read its
delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from docflow.api.deps import ApiCaller
from docflow.api.inputs import Identifier
from docflow.api.schemas import (
    WebhookDeliveriesView,
    WebhookDeliveryView,
    WebhookRequest,
    WebhookSet,
    WebhookView,
)
from docflow.ops.webhooks import WebhookError, get_webhook, list_deliveries, remove_webhook, set_webhook

router = APIRouter(prefix="/projects/{project_id}/webhook", tags=["webhooks"])

ProjectId = Annotated[Identifier, Path(min_length=1, max_length=128, description="The project.")]


def _view(hook: object) -> dict[str, object]:
    return {name: getattr(hook, name) for name in ("project_id", "url", "enabled", "created_at", "created_by")}


@router.put("")
def put_webhook(project_id: ProjectId, body: WebhookRequest, caller: ApiCaller) -> WebhookSet:
    """Set the project's webhook (replacing any): `graph_complete` and `error_*` events of its
    documents from now on are posted to the URL, signed with the secret returned here, once."""
    try:
        hook, secret = set_webhook(project_id=project_id, url=body.url, created_by=caller.via)
    except WebhookError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return WebhookSet(**_view(hook), secret=secret)


@router.get("")
def read_webhook(project_id: ProjectId, caller: ApiCaller) -> WebhookView:
    """The project's webhook (never its secret); 404 when it has none."""
    hook = get_webhook(project_id)
    if hook is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"project {project_id!r} has no webhook")
    return WebhookView(**_view(hook))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(project_id: ProjectId, caller: ApiCaller) -> None:
    """Remove the project's webhook and its delivery log; 404 when it has none."""
    if not remove_webhook(project_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"project {project_id!r} has no webhook")


@router.get("/deliveries")
def deliveries(
    project_id: ProjectId, caller: ApiCaller, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> WebhookDeliveriesView:
    """The latest deliveries of the project's webhook, newest first: each event, its attempts and
    the last answer."""
    return WebhookDeliveriesView(
        project_id=project_id,
        deliveries=[
            WebhookDeliveryView.model_validate(d, from_attributes=True)
            for d in list_deliveries(project_id, limit=limit)
        ],
    )
