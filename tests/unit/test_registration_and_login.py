from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from application.errors import InvalidCredentials, InvalidToken
from application.use_cases.authenticate import Authenticate
from application.use_cases.get_current_user import GetCurrentUser
from application.use_cases.register_user import RegisterUser, Registration
from domain.errors import EmailAlreadyRegistered, InvalidEmail, InvalidFullName, InvalidPassword
from tests.fakes import TEST_SECRET, InMemoryBank


def register(bank: InMemoryBank) -> RegisterUser:
    return RegisterUser(bank.uow, bank.hasher, bank.emails, bank.clock, bank.retry, bank.throttle)


def authenticate(bank: InMemoryBank) -> Authenticate:
    return Authenticate(bank.uow, bank.hasher, bank.emails, bank.tokens, bank.throttle)


async def test_registration_stores_a_normalized_user_with_a_hashed_password(
    bank: InMemoryBank,
) -> None:
    user = await register(bank)(Registration("Ada@Example.COM", "correct horse", "  Ada L.  "))
    assert user.email == "ada@example.com"
    assert user.full_name == "Ada L."
    assert user.password_hash != "correct horse"
    assert bank.storage.users[user.id] == user


async def test_an_email_registers_once_whatever_its_letter_case(bank: InMemoryBank) -> None:
    await register(bank)(Registration("ada@example.com", "password1", "Ada"))
    with pytest.raises(EmailAlreadyRegistered):
        await register(bank)(Registration("ADA@example.com", "password2", "Ada Again"))
    assert len(bank.storage.users) == 1


@pytest.mark.parametrize(
    ("email", "password", "full_name", "error"),
    [
        ("not-an-email", "password1", "Ada", InvalidEmail),
        ("ada@", "password1", "Ada", InvalidEmail),
        ("a" * 250 + "@example.com", "password1", "Ada", InvalidEmail),
        ("ada@example.com", "short", "Ada", InvalidPassword),
        ("ada@example.com", "x" * 129, "Ada", InvalidPassword),
        ("ada@example.com", "password1", "   ", InvalidFullName),
        ("ada@example.com", "password1", "\u200b\u200b", InvalidFullName),
        ("ada@example.com", "password1", "Ada\x00", InvalidFullName),
        ("ada@example.com", "password1", "A" * 201, InvalidFullName),
    ],
)
async def test_invalid_registrations_are_refused_and_store_nothing(
    bank: InMemoryBank, email: str, password: str, full_name: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await register(bank)(Registration(email, password, full_name))
    assert bank.storage.users == {}


async def test_password_length_bounds_are_inclusive(bank: InMemoryBank) -> None:
    await register(bank)(Registration("a@example.com", "x" * 8, "A"))
    await register(bank)(Registration("b@example.com", "x" * 128, "B"))
    assert len(bank.storage.users) == 2


async def test_login_issues_a_token_that_names_the_user(bank: InMemoryBank) -> None:
    user = await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    token = await authenticate(bank)("ADA@example.com", "correct horse")
    assert token.expires_in == 15 * 60
    assert (
        await GetCurrentUser(bank.uow, bank.tokens, bank.clock, timedelta(0))(token.token)
    ).id == user.id


async def test_wrong_password_and_unknown_email_fail_alike(bank: InMemoryBank) -> None:
    await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    with pytest.raises(InvalidCredentials) as wrong_password:
        await authenticate(bank)("ada@example.com", "wrong horse")
    verifications = bank.hasher.verifications
    with pytest.raises(InvalidCredentials) as unknown_email:
        await authenticate(bank)("bob@example.com", "correct horse")
    assert str(wrong_password.value) == str(unknown_email.value)
    # The unknown email still paid for one verification, so timing does not tell them apart.
    assert bank.hasher.verifications == verifications + 1


async def test_expired_tampered_and_unsigned_tokens_are_refused(bank: InMemoryBank) -> None:
    user = await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    current_user = GetCurrentUser(bank.uow, bank.tokens, bank.clock, timedelta(0))
    token = bank.tokens.issue(user.id).token

    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    unsigned = jwt.encode(
        {"sub": str(user.id), "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(1)},
        key="",  # PyJWT reads "" as no key; None is not typed as a key once cryptography is in
        algorithm="none",
    )
    other_key = jwt.encode(
        {"sub": str(user.id), "iat": bank.clock.now(), "exp": bank.clock.now() + timedelta(1)},
        "another-secret-that-is-32-bytes-long!!",
        algorithm="HS256",
    )
    for bad in (tampered, unsigned, other_key, "not.a.jwt", ""):
        with pytest.raises(InvalidToken):
            await current_user(bad)

    bank.clock.advance(minutes=16)
    with pytest.raises(InvalidToken):
        await current_user(token)


async def test_a_token_verified_once_still_expires_and_its_forgeries_stay_refused(
    bank: InMemoryBank,
) -> None:
    """The issuer remembers tokens it verified: the clock still decides on every call, and
    only the exact token string is remembered, never a look-alike."""
    user = await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    current_user = GetCurrentUser(bank.uow, bank.tokens, bank.clock, timedelta(0))
    token = bank.tokens.issue(user.id).token
    assert (await current_user(token)).id == user.id
    assert (await current_user(token)).id == user.id  # the remembered verification

    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(InvalidToken):
        await current_user(tampered)

    bank.clock.advance(minutes=16)
    with pytest.raises(InvalidToken):
        await current_user(token)


def test_the_remembered_tokens_are_bounded() -> None:
    from uuid import uuid4

    from adapters.jwt_tokens import JwtTokenIssuer
    from tests.fakes import ManualClock

    clock = ManualClock()
    tokens = JwtTokenIssuer(TEST_SECRET, timedelta(minutes=15), clock, verified_capacity=3)
    issued = {tokens.issue(user_id).token: user_id for user_id in [uuid4() for _ in range(5)]}
    for token, user_id in issued.items():
        assert tokens.subject_of(token) == user_id
    assert len(tokens._verified) == 3
    for token, user_id in issued.items():  # the forgotten ones are verified again
        assert tokens.subject_of(token) == user_id


async def test_a_token_for_a_user_that_does_not_exist_is_refused(bank: InMemoryBank) -> None:
    from uuid import uuid4

    token = bank.tokens.issue(uuid4()).token
    with pytest.raises(InvalidToken):
        await GetCurrentUser(bank.uow, bank.tokens, bank.clock, timedelta(0))(token)


def test_tokens_pin_hs256_and_carry_the_standard_claims(bank: InMemoryBank) -> None:
    from uuid import uuid4

    user_id = uuid4()
    token = bank.tokens.issue(user_id).token
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["sub"] == str(user_id)
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_an_active_user_is_rechecked_after_the_window(bank: InMemoryBank) -> None:
    from dataclasses import replace

    user = await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    current_user = GetCurrentUser(bank.uow, bank.tokens, bank.clock, timedelta(seconds=5))
    token = bank.tokens.issue(user.id).token
    assert (await current_user(token)).id == user.id

    bank.storage.users[user.id] = replace(user, is_active=False)
    bank.clock.advance(seconds=4)
    assert (await current_user(token)).id == user.id  # still within the window
    bank.clock.advance(seconds=2)
    with pytest.raises(InvalidToken):
        await current_user(token)


async def test_without_a_window_every_call_reads_the_user(bank: InMemoryBank) -> None:
    from dataclasses import replace

    user = await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    current_user = GetCurrentUser(bank.uow, bank.tokens, bank.clock, timedelta(0))
    token = bank.tokens.issue(user.id).token
    await current_user(token)
    bank.storage.users[user.id] = replace(user, is_active=False)
    with pytest.raises(InvalidToken):
        await current_user(token)


async def test_repeated_login_failures_block_the_email_then_let_it_go(bank: InMemoryBank) -> None:
    from application.errors import TooManyAttempts

    await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    login = authenticate(bank)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await login("ada@example.com", "wrong", client="10.0.0.1")
    with pytest.raises(TooManyAttempts) as blocked:
        await login("ada@example.com", "correct horse", client="10.0.0.2")
    assert 0 < blocked.value.retry_after_s <= 15 * 60
    bank.clock.advance(minutes=16)
    assert (await login("ada@example.com", "correct horse")).token


async def test_a_success_resets_the_email_count(bank: InMemoryBank) -> None:
    await register(bank)(Registration("ada@example.com", "correct horse", "Ada"))
    login = authenticate(bank)
    for _ in range(3):
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                await login("ada@example.com", "wrong")
        await login("ada@example.com", "correct horse")


async def test_one_client_address_guessing_many_emails_is_blocked(bank: InMemoryBank) -> None:
    from application.errors import TooManyAttempts

    login = authenticate(bank)
    for n in range(20):
        with pytest.raises(InvalidCredentials):
            await login(f"user{n}@example.com", "guess", client="203.0.113.9")
    with pytest.raises(TooManyAttempts):
        await login("someone@example.com", "guess", client="203.0.113.9")
    with pytest.raises(InvalidCredentials):  # another address is not affected
        await login("someone@example.com", "guess", client="203.0.113.10")


async def test_registrations_are_limited_per_client_address(bank: InMemoryBank) -> None:
    from application.errors import TooManyAttempts

    signup = register(bank)
    for n in range(20):
        await signup(Registration(f"u{n}@example.com", "password1", "U"), client="198.51.100.7")
    with pytest.raises(TooManyAttempts):
        await signup(Registration("late@example.com", "password1", "U"), client="198.51.100.7")
    assert len(bank.storage.users) == 20
