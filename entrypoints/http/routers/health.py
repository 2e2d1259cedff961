from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from adapters.sqlalchemy.health import DatabaseHealth
from entrypoints.broker import broker_description
from entrypoints.http.dependencies import provided
from entrypoints.http.problems import problem, problem_responses
from entrypoints.http.schemas import EventsHealthOut, HealthOut

router = APIRouter(
    prefix="/health",
    tags=["health"],
    responses=problem_responses(503),  # past the request deadline
)


@router.get("/live", response_model=HealthOut, response_model_exclude_none=True)
async def live() -> HealthOut:
    """The process answers; says nothing of the database, so a restart cannot fix it."""
    return HealthOut(status="ok")


@router.get("/ready", response_model=HealthOut, responses=problem_responses(503))
async def ready(
    request: Request,
    health: Annotated[DatabaseHealth, provided(lambda c: c.database_health)],
) -> HealthOut | Response:
    """Ready when the database answers. A broker outage does not make the service unready:
    events wait in the outbox; `events` reports how many and how old the oldest is, and
    where a consumer finds them (NATS URL, stream, subjects)."""
    if await health.is_ready():
        relay = request.app.state.relay_metrics
        broker = broker_description(request.app.state.container.nats_url())
        return HealthOut(
            status="ok",
            events=EventsHealthOut(
                backlog=relay.backlog, oldest_undelivered_s=relay.oldest_age_s, **broker
            ),
        )
    return problem(503, "not-ready", "The database does not answer.", headers={"Retry-After": "2"})
