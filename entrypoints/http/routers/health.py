from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from adapters.sqlalchemy.health import DatabaseHealth
from entrypoints.http.dependencies import provided
from entrypoints.http.problems import problem, problem_responses
from entrypoints.http.schemas import HealthOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=HealthOut)
async def live() -> HealthOut:
    """The process answers; says nothing of the database, so a restart cannot fix it."""
    return HealthOut(status="ok")


@router.get("/ready", response_model=HealthOut, responses=problem_responses(503))
async def ready(
    health: Annotated[DatabaseHealth, provided(lambda c: c.database_health)],
) -> HealthOut | Response:
    if await health.is_ready():
        return HealthOut(status="ok")
    return problem(503, "not-ready", "The database does not answer.", headers={"Retry-After": "2"})
