"""Cross-origin requests from browsers, for the origins HEXBANK_CORS_ORIGINS names (off when
it names none)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from entrypoints.http.problems import problem

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PATCH", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID")
EXPOSED_HEADERS = (
    "Idempotent-Replayed",
    "Location",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "WWW-Authenticate",
    "X-Request-ID",
)
"""What a browser script may read of an answer: the headers this API sends with meaning."""


class CrossOrigin(CORSMiddleware):
    """Starlette's CORSMiddleware for origins given by name, without cookies (tokens travel
    in `Authorization`). A refused preflight is a problem like every other refusal, and
    carries no `Access-Control-*` header at all."""

    def __init__(self, app: object, origins: list[str]) -> None:
        super().__init__(
            app,  # type: ignore[arg-type]
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        # Starlette's text names what failed: "Disallowed CORS origin, method".
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        return problem(
            400,
            "cross-origin-refused",
            f"This cross-origin request is not allowed ({refused}); see HEXBANK_CORS_ORIGINS.",
            headers={"Vary": self.preflight_headers["Vary"]},
        )
