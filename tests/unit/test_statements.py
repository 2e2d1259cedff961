"""Signed statements on the in-memory adapters: any history exports and verifies, in either
format; consecutive ranges chain; a file edited by one byte fails; a statement signed before
a key rotation still verifies; `hexbank verify-statement` answers in one line with its exit
status."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adapters.ed25519_statement_signer import Ed25519StatementSigner, public_key_pem
from application.transfer_requests import TransferRequest
from application.use_cases.export_statement import ExportStatement
from application.use_cases.register_user import Registration
from domain.chain import GENESIS_HASH
from domain.errors import DomainError, InvalidStatementRange, StatementTooLarge
from domain.statement import Statement
from entrypoints.cli import cli
from entrypoints.statement_documents import (
    StatementUnreadable,
    read_statement,
    render_csv,
    render_json,
    verify,
)
from tests.fakes import InMemoryBank, use_cases

RENDERERS = {"json": render_json, "csv": render_csv}


def new_signer(*previous: Ed25519StatementSigner) -> Ed25519StatementSigner:
    return Ed25519StatementSigner(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        ),
        [signer.public_keys()[0].public_key for signer in previous],
    )


SIGNER = new_signer()
PUBLIC = [SIGNER.public_keys()[0].public_key]


def checked(content: bytes, keys: list[bytes] = PUBLIC) -> tuple[bool, str]:
    try:
        verdict = verify(read_statement(content), keys)
    except StatementUnreadable as error:
        return False, f"unreadable: {error}"
    return verdict.ok, verdict.line


# A step: (what, amount, which accounts, seconds passing before it).
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "transfer", "withdraw", "hold", "reverse"]),
        st.integers(1, 5_000),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 90),
    ),
    max_size=25,
)


async def history(
    steps: list[tuple[str, int, int, int, int]],
) -> tuple[SimpleNamespace, UUID, UUID, list[datetime]]:
    """Ada's two accounts and Bob's one, moved by the steps (refusals are part of a history
    too); returns the use cases, Ada, her first account and the moments the steps ran at."""
    bank = InMemoryBank()
    uc = use_cases(bank)
    ada = (await uc.register(Registration("ada@example.com", "password1", "Ada"))).id
    bob = (await uc.register(Registration("bob@example.com", "password1", "Bob"))).id
    owners = [ada, ada, bob]
    accounts = [(await uc.open_account(owner, "EUR")).id for owner in owners]
    moments = [bank.clock.now()]
    paid: list[tuple[UUID, UUID]] = []
    for what, amount, first, second, seconds in steps:
        bank.clock.advance(seconds=seconds)
        moments.append(bank.clock.now())
        owner, source, destination = owners[first], accounts[first], accounts[second]
        try:
            if what == "deposit":
                await uc.deposit(owner, source, amount)
            elif what == "withdraw":
                await uc.withdraw(owner, source, amount)
            elif what in ("transfer", "hold") and source != destination:
                request = TransferRequest(source, destination, amount, "EUR")
                if what == "hold":
                    request = TransferRequest(source, destination, amount, "EUR", pending=True)
                    held = await uc.transfer(owner, request)
                    await uc.post_hold(owner, held.transfer.id, amount // 2 or None)
                else:
                    receipt = await uc.transfer(owner, request)
                    paid.append((owners[second], receipt.transfer.id))
            elif what == "reverse" and paid:
                payee, transfer_id = paid.pop()
                await uc.reverse(payee, transfer_id, None)
        except DomainError:
            pass
    return uc, ada, accounts[0], moments


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS, st.data())
def test_any_history_exports_and_verifies_and_consecutive_ranges_chain(
    steps: list[tuple[str, int, int, int, int]], data: st.DataObject
) -> None:
    async def scenario() -> None:
        uc, ada, account, moments = await history(steps)
        cut = data.draw(st.sampled_from(moments), label="cut")
        fmt = data.draw(st.sampled_from(sorted(RENDERERS)), label="format")
        whole: Statement = await uc.export_statement(ada, account)
        before: Statement = await uc.export_statement(ada, account, until=cut)
        after: Statement = await uc.export_statement(ada, account, since=cut)
        assert whole.opening.hash == GENESIS_HASH
        assert before.closing == after.opening  # the next range opens where this one closed
        assert before.entries + after.entries == whole.entries
        assert (await uc.get_account(ada, account)).head_hash == whole.closing.hash
        for statement in (whole, before, after):
            content, _ = RENDERERS[fmt](statement, SIGNER)
            ok, line = checked(content)
            assert ok, line
            assert line.startswith("OK: ")
            assert read_statement(content).statement == statement

    asyncio.run(scenario())


def exported(fmt: str) -> bytes:
    async def scenario() -> bytes:
        steps = [("deposit", 900, 0, 0, 1), ("transfer", 300, 0, 2, 1), ("hold", 100, 0, 1, 1)]
        # Ada's first account: +900, -300 to Bob, -50 of a hold of 100 to her other one.
        uc, ada, account, _ = await history(steps)
        statement = await uc.export_statement(ada, account)
        return RENDERERS[fmt](statement, SIGNER)[0]

    return asyncio.run(scenario())


FILES = {fmt: exported(fmt) for fmt in RENDERERS}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FILES)), st.data())
def test_an_exported_file_edited_by_one_byte_fails(fmt: str, data: st.DataObject) -> None:
    content = FILES[fmt]
    position = data.draw(st.integers(0, len(content) - 1), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != content[position]), label="byte")
    edited = content[:position] + bytes([byte]) + content[position + 1 :]
    ok, line = checked(edited)
    assert not ok, (position, byte, line)


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_every_byte_of_an_exported_file_is_covered(fmt: str) -> None:
    """Each position, changed to a few values an editor might leave (a neighbouring byte, a
    space, a tab, the high bit): none verifies. (Every position with all 255 other values was
    checked once by hand: none verifies either.)"""
    content = FILES[fmt]
    passing = []
    for position, old in enumerate(content):
        for new in {old ^ 0x01, old ^ 0x80, 0x20, 0x09} - {old}:
            edited = content[:position] + bytes([new]) + content[position + 1 :]
            if checked(edited)[0]:
                passing.append((position, new))
    assert passing == []


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_every_check_names_what_fails(fmt: str) -> None:
    assert checked(FILES[fmt])[0]
    other = new_signer()
    ok, line = checked(FILES[fmt], [other.public_keys()[0].public_key])
    assert (ok, line.split(";")[0]) == (
        False,
        f"FAILED: signed by key {SIGNER.public_keys()[0].key_id}",
    )


def test_a_statement_whose_hashes_do_not_chain_fails_at_that_entry_even_when_signed() -> None:
    """What a server would sign after its books were edited: a good signature over a broken
    chain."""
    statement = read_statement(FILES["json"]).statement
    second = statement.entries[1]
    changed = replace(second, amount=second.amount - 1, balance_after=second.balance_after - 1)
    forged = replace(statement, entries=(statement.entries[0], changed, *statement.entries[2:]))
    ok, line = checked(render_json(forged, SIGNER)[0])
    assert not ok
    assert line.startswith(f"FAILED: entry {second.sequence}: entry_hash ")


def test_a_statement_signed_before_a_key_rotation_still_verifies_with_the_published_keys() -> None:
    old = SIGNER
    rotated = new_signer(old)
    published = rotated.public_keys()
    assert [key.current for key in published] == [True, False]
    assert published[1].key_id == old.public_keys()[0].key_id
    keys = [key.public_key for key in published]
    assert checked(FILES["csv"], keys)[0]  # signed by the old key, before the rotation
    new_statement = read_statement(FILES["json"]).statement
    assert checked(render_json(new_statement, rotated)[0], keys)[0]


async def test_a_range_past_the_limit_and_a_reversed_range_are_refused(
    bank: InMemoryBank,
) -> None:
    uc = use_cases(bank)
    ada = (await uc.register(Registration("ada@example.com", "password1", "Ada"))).id
    account = (await uc.open_account(ada, "EUR")).id
    for _ in range(3):
        await uc.deposit(ada, account, 10)
    small = ExportStatement(bank.uow, bank.clock, max_entries=2)
    with pytest.raises(StatementTooLarge):
        await small(ada, account)
    assert len((await ExportStatement(bank.uow, bank.clock, 3)(ada, account)).entries) == 3
    now = bank.clock.now()
    with pytest.raises(InvalidStatementRange):
        await small(ada, account, since=now, until=now - timedelta(seconds=1))


def test_verify_statement_prints_one_line_and_exits_0_1_or_2(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "key.pem"
    key.write_text(public_key_pem(SIGNER.public_keys()[0].public_key))
    good = tmp_path / "statement.csv"
    good.write_bytes(FILES["csv"])
    bad = tmp_path / "statement.json"
    document = json.loads(FILES["json"])
    bad.write_bytes(FILES["json"].replace(b'"amount": -300', b'"amount": -301', 1))
    assert document["entries"][1]["amount"] == -300

    answer = runner.invoke(cli, ["verify-statement", str(good), "--public-key", str(key)])
    assert answer.exit_code == 0, answer.output
    assert answer.output.startswith("OK: ")
    assert answer.output.count("\n") == 1

    answer = runner.invoke(cli, ["verify-statement", str(bad), "--public-key", str(key)])
    assert answer.exit_code == 1, answer.output
    assert answer.output.startswith("FAILED: ")
    assert answer.output.count("\n") == 1

    base64_key = base64.b64encode(SIGNER.public_keys()[0].public_key).decode()
    answer = runner.invoke(cli, ["verify-statement", str(good), "--public-key", base64_key])
    assert answer.exit_code == 0, answer.output

    for arguments in (
        [str(good)],  # no key
        [str(tmp_path / "missing.csv"), "--public-key", str(key)],
        [str(good), "--public-key", "not a key"],
    ):
        answer = runner.invoke(cli, ["verify-statement", *arguments])
        assert answer.exit_code == 2, (arguments, answer.output)


def test_verify_statement_takes_the_keys_the_bank_publishes(tmp_path: Path) -> None:
    """--keys-url reads GET /api/v1/statement-keys's answer (here served by a stand-in on
    loopback): the old key it lists still verifies a statement signed before a rotation."""
    rotated = new_signer(SIGNER)
    listed = {
        "keys": [
            {"key_id": key.key_id, "public_key": base64.b64encode(key.public_key).decode()}
            for key in rotated.public_keys()
        ]
    }
    body = json.dumps(listed).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/v1/statement-keys"
        file = tmp_path / "statement.csv"
        file.write_bytes(FILES["csv"])
        answer = CliRunner().invoke(cli, ["verify-statement", str(file), "--keys-url", url])
        assert answer.exit_code == 0, answer.output
        assert answer.output.startswith("OK: ")
    finally:
        server.shutdown()
        server.server_close()
    unreachable = CliRunner().invoke(cli, ["verify-statement", str(file), "--keys-url", url])
    assert unreachable.exit_code == 2, unreachable.output


def test_verify_statement_answers_hostile_files_in_one_line_with_exit_1(tmp_path: Path) -> None:
    """A file is the verifier's untrusted input: JSON nested past the parser's depth, or a
    `key_id` that is no string, still fails in one FAILED line, never a traceback."""
    key = tmp_path / "key.pem"
    key.write_text(public_key_pem(SIGNER.public_keys()[0].public_key))
    document = json.loads(FILES["json"])
    hostile = {
        "deep.json": b'{"format": "hexbank-statement/1", "x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        "key-list.json": json.dumps({**document, "key_id": []}).encode(),
        "key-object.json": json.dumps({**document, "key_id": {"a": 1}}).encode(),
    }
    for name, content in hostile.items():
        file = tmp_path / name
        file.write_bytes(content)
        answer = CliRunner().invoke(cli, ["verify-statement", str(file), "--public-key", str(key)])
        assert answer.exit_code == 1, (name, answer.output)
        assert answer.exception is None or isinstance(answer.exception, SystemExit), name
        assert answer.output.startswith("FAILED: "), (name, answer.output)
        assert answer.output.count("\n") == 1, (name, answer.output)


def test_verify_statement_without_a_usable_key_cannot_run_and_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    """Exit 2, one line: a keys URL that is no URL, one that answers an error, a key file
    holding no key."""

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    file = tmp_path / "statement.csv"
    file.write_bytes(FILES["csv"])
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    try:
        for arguments in (
            ["--keys-url", "http://[::1"],
            ["--keys-url", f"http://127.0.0.1:{server.server_port}/api/v1/statement-keys"],
            ["--public-key", str(empty)],
        ):
            answer = CliRunner().invoke(cli, ["verify-statement", str(file), *arguments])
            assert answer.exit_code == 2, (arguments, answer.output, answer.exception)
            assert answer.output.startswith("hexbank: no usable public key"), answer.output
            assert answer.output.count("\n") == 1, (arguments, answer.output)
    finally:
        server.shutdown()
        server.server_close()


async def test_a_range_asked_to_end_later_closes_when_generated_so_the_next_range_chains(
    bank: InMemoryBank,
) -> None:
    """A statement signs that it holds every entry of its range: one asked with a `to` still
    to come would leave out the entries written before that `to`, after it was signed, and
    the next range would not open where it closed. Its `to` is when it was generated."""
    uc = use_cases(bank)
    ada = (await uc.register(Registration("ada@example.com", "password1", "Ada"))).id
    account = (await uc.open_account(ada, "EUR")).id
    await uc.deposit(ada, account, 10)
    bank.clock.advance(seconds=1)
    asked_at = bank.clock.now()
    december: Statement = await uc.export_statement(
        ada, account, until=asked_at + timedelta(days=30)
    )
    assert december.until == december.generated_at == asked_at
    bank.clock.advance(seconds=1)
    await uc.deposit(ada, account, 20)  # after the statement, before the `to` it was asked for
    rest: Statement = await uc.export_statement(ada, account, since=december.until)
    assert rest.opening == december.closing
    assert [entry.amount for entry in december.entries + rest.entries] == [10, 20]
    later = asked_at + timedelta(days=60)
    empty: Statement = await uc.export_statement(
        ada, account, since=later, until=later + timedelta(days=1)
    )
    assert (empty.since, empty.until, empty.entries) == (later, later, ())


async def test_entries_written_between_the_exports_reads_never_make_it_disagree_with_itself(
    bank: InMemoryBank,
) -> None:
    """The export reads the range and the entry it opens from in separate statements (the
    reporting reader commits each): two entries written between them, one before `from` and
    one in the range, must not give an opening the range's first entry does not chain from.
    Whatever the export reads, it signs a statement that verifies."""
    uc = use_cases(bank)
    ada = (await uc.register(Registration("ada@example.com", "password1", "Ada"))).id
    account = (await uc.open_account(ada, "EUR")).id
    await uc.deposit(ada, account, 10)
    since = bank.clock.now() + timedelta(seconds=10)
    written = False

    def interleaved() -> object:
        uow = bank.uow()
        entries = uow.ledger.entries

        async def entries_then_writes(*args: object, **kwargs: object) -> object:
            nonlocal written
            found = await entries(*args, **kwargs)  # type: ignore[arg-type]
            if not written:
                written = True
                await uc.deposit(ada, account, 20)  # before `from`
                bank.clock.advance(seconds=20)
                await uc.deposit(ada, account, 30)  # in the range
            return found

        uow.ledger.entries = entries_then_writes  # type: ignore[method-assign, assignment]
        return uow

    export = ExportStatement(interleaved, bank.clock, max_entries=100)  # type: ignore[arg-type]
    statement = await export(ada, account, since=since)
    content, _ = render_json(statement, SIGNER)
    ok, line = checked(content)
    assert ok, line
    assert written
