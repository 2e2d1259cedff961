from __future__ import annotations

from fastapi import APIRouter, Request, Response

from entrypoints.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus exposition format, for this worker process."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
