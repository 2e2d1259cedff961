from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError

from application.admission import Admission
from application.errors import TooManyAttempts
from application.use_cases.authenticate import Authenticate
from application.use_cases.register_user import RegisterUser, Registration
from entrypoints.http.dependencies import CurrentUser, client_address, provided
from entrypoints.http.oauth2 import OAuth2TokenRoute, token_problem_responses
from entrypoints.http.problems import problem_responses
from entrypoints.http.schemas import (
    LOGIN_FORM_HINT,
    RegisterUserIn,
    TokenFormIn,
    TokenOut,
    UserOut,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["users"],
    # Every route: 429 past its user's (or address's) cap, 503 past the request deadline.
    responses=problem_responses(429, 503),
)
# The token endpoint's own route class: RFC 6749 errors and no-store (http/oauth2.py).
token_router = APIRouter(route_class=OAuth2TokenRoute)


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses=problem_responses(409, 413, 422, 429),
)
async def register_user(
    body: RegisterUserIn,
    request: Request,
    response: Response,
    register: Annotated[RegisterUser, provided(lambda c: c.register_user)],
) -> UserOut:
    """Register with an email (your login) and a password; then ask for a token."""
    registration = Registration(body.email, body.password, body.full_name)
    user = await register(registration, client_address(request))
    response.headers["Location"] = "/api/v1/users/me"
    return UserOut.of(user)


async def form_encoded(request: Request) -> None:
    """Every other route takes JSON, so JSON is the likely mistake here: name the fix, instead
    of reporting `username` and `password` missing from a body that plainly has them."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": LOGIN_FORM_HINT, "type": "form_expected"}]
        )


@token_router.post(
    "/auth/token",
    response_model=TokenOut,
    # 413 as a plain problem: one refused by its Content-Length never reaches the route.
    responses={**token_problem_responses(400, 429, 503), **problem_responses(413)},
    dependencies=[Depends(form_encoded)],
)
async def issue_token(
    form: Annotated[TokenFormIn, Form()],
    request: Request,
    authenticate: Annotated[Authenticate, provided(lambda c: c.authenticate)],
) -> TokenOut:
    """OAuth2 password flow: `username` is the email. Works with Swagger UI's Authorize."""
    client = client_address(request)
    # Before a user is known, the client address is the principal that takes turns: one
    # address's storm of logins hashes one password at a time while others log in too, and
    # waits for its answers (a refusal would only free it to send the next one at once).
    admission: Admission = request.app.state.client_admission
    async with admission.turn(client):
        try:
            token = await authenticate(form.username, form.password, client)
        except TooManyAttempts:
            await asyncio.sleep(request.app.state.token_refusal_delay_s)
            raise
    return TokenOut(access_token=token.token, expires_in=token.expires_in)


router.include_router(token_router)


@router.get("/users/me", response_model=UserOut, responses=problem_responses(401))
async def me(user: CurrentUser) -> UserOut:
    """The user the bearer token belongs to."""
    return UserOut.of(user)
