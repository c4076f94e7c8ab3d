"""A page's picture as an HTTP answer, for the document page and the API alike."""

from __future__ import annotations

from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from docflow.api.web import page_images
from docflow.core.errors import PermanentError, TransientError
from docflow.core.settings import Settings
from docflow.ops.lifecycle.reading import stored_original


async def picture_response(settings: Settings, *, document_id: int, number: int) -> Response:
    """The page as a PNG; 404 with the reason when it has none; 503 while it cannot be made yet.

    Rendering and reading the store run in the thread pool: they block, and must not stall the
    event loop for other requests.
    """
    original = await run_in_threadpool(stored_original, document_id)
    if original is None:
        return Response(f"no stored original for document {document_id}", status_code=404, media_type="text/plain")
    try:
        path = await run_in_threadpool(
            page_images.page_png,
            settings,
            object_key=original.object_key,
            sha256=original.sha256,
            file_type=original.file_type,
            page=number,
        )
    except PermanentError as exc:
        return Response(str(exc), status_code=404, media_type="text/plain")
    except page_images.PictureNotReady as exc:
        # Laid out off the request path: the page's script asks again after Retry-After.
        return Response(str(exc), status_code=503, media_type="text/plain", headers={"Retry-After": "2"})
    except TransientError as exc:
        return Response(str(exc), status_code=503, media_type="text/plain")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
