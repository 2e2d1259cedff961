"""Signed statements as files (JSON or CSV), and their offline check. What is signed, byte by
byte, is documented in docs/statements.md; the server's export and `hexbank
verify-statement` share this module, so they cannot disagree."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.ed25519_statement_signer import key_id as key_id_of
from adapters.ed25519_statement_signer import verifies
from application.events import timestamp
from application.ports.statement_signer import StatementSignature, StatementSigner
from domain.chain import ChainedEntry, ChainStart
from domain.statement import Statement

FORMAT = "hexbank-statement/1"
SIGNATURE_HEADER = "Hexbank-Signature"
CSV_SIGNATURE_PREFIX = "# " + SIGNATURE_HEADER + ": "
_CSV_SIGNATURE_LINE = re.compile(
    re.escape(CSV_SIGNATURE_PREFIX)
    + r'key_id="(?P<key_id>[0-9a-f]{16})", signature="(?P<signature>[A-Za-z0-9+/]{86}==)"'
)
CSV_COLUMNS = (
    "sequence",
    "transfer_id",
    "transfer_kind",
    "amount",
    "balance_after",
    "created_at",
    "entry_hash",
)


class StatementUnreadable(ValueError):
    """The file does not read as a statement of this format: it fails verification."""


def _point(point: ChainStart) -> dict[str, Any]:
    return {"balance": point.balance, "sequence": point.sequence, "hash": point.hash.hex()}


def _body(statement: Statement) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "account_id": str(statement.account_id),
        "currency": statement.currency,
        "from": None if statement.since is None else timestamp(statement.since),
        "to": None if statement.until is None else timestamp(statement.until),
        "generated_at": timestamp(statement.generated_at),
        "opening": _point(statement.opening),
        "closing": _point(statement.closing),
        "entries": [
            {
                "sequence": e.sequence,
                "transfer_id": str(e.transfer_id),
                "transfer_kind": e.transfer_kind,
                "amount": e.amount,
                "balance_after": e.balance_after,
                "created_at": timestamp(e.created_at),
                "entry_hash": e.entry_hash.hex(),
            }
            for e in statement.entries
        ],
    }


def signature_header(signature: StatementSignature) -> str:
    encoded = base64.b64encode(signature.signature).decode()
    return f'key_id="{signature.key_id}", signature="{encoded}"'


def render_json(statement: Statement, signer: StatementSigner) -> tuple[bytes, StatementSignature]:
    """The document, keys sorted, indented by two spaces, with `key_id` and `signature` in
    it. Signed: the file's exact bytes with `signature` empty (so `key_id` is signed too)."""
    document = _body(statement)
    document["key_id"] = signer.public_keys()[0].key_id
    document["signature"] = ""
    unsigned = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    signature = signer.sign(unsigned)
    encoded = base64.b64encode(signature.signature).decode()
    return unsigned.replace(_EMPTY_SIGNATURE, _signature_member(encoded), 1), signature


_EMPTY_SIGNATURE = b'"signature": ""'


def _signature_member(encoded: str) -> bytes:
    return f'"signature": "{encoded}"'.encode()


def render_csv(statement: Statement, signer: StatementSigner) -> tuple[bytes, StatementSignature]:
    """Header lines (`# name: value`), the entries' columns and rows, then the signature in a
    last comment line. Signed: every byte before that last line."""
    body = _body(statement)
    lines = io.StringIO()
    for name in ("format", "account_id", "currency", "from", "to", "generated_at"):
        lines.write(f"# {name}: {body[name] or ''}\n")
    for name in ("opening", "closing"):
        point = body[name]
        lines.write(
            f"# {name}: balance={point['balance']} sequence={point['sequence']}"
            f" hash={point['hash']}\n"
        )
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in body["entries"]:
        writer.writerow([entry[column] for column in CSV_COLUMNS])
    signed = lines.getvalue().encode()
    signature = signer.sign(signed)
    return signed + f"{CSV_SIGNATURE_PREFIX}{signature_header(signature)}\n".encode(), signature


@dataclass(frozen=True, slots=True)
class SignedStatement:
    """A statement file read back: what it claims, what was signed, and the signature."""

    statement: Statement
    closing: ChainStart
    """As the file claims it (checked against where its entries end)."""
    signed: bytes
    key_id: str
    signature: bytes


def read_statement(content: bytes) -> SignedStatement:
    """Parse a JSON or CSV statement; `StatementUnreadable` when it is neither."""
    try:
        text = content.decode()
    except UnicodeDecodeError:
        raise StatementUnreadable("the file is not UTF-8 text") from None
    try:
        if text.lstrip().startswith("{"):
            return _read_json(content, text)
        return _read_csv(content, text)
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        binascii.Error,
        csv.Error,
        RecursionError,  # JSON nested deeper than the parser goes: not a statement either
    ) as error:
        if isinstance(error, StatementUnreadable):
            raise
        raise StatementUnreadable(f"not a {FORMAT} file: {error!r}") from None


def _read_json(content: bytes, text: str) -> SignedStatement:
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StatementUnreadable(f"not a {FORMAT} document")
    encoded = document["signature"]
    member = _signature_member(str(encoded))
    if content.count(member) != 1:
        raise StatementUnreadable("the signature is not where the export writes it")
    signed = content.replace(member, _EMPTY_SIGNATURE, 1)
    signature = _signature_bytes(encoded)
    key_id = document["key_id"]
    if not isinstance(key_id, str):
        raise StatementUnreadable("its `key_id` is not a string")
    account_id, currency = UUID(document["account_id"]), document["currency"]
    entries = tuple(_entry(account_id, currency, item) for item in document["entries"])
    statement, closing = _statement(document, account_id, currency, entries)
    return SignedStatement(statement, closing, signed, key_id, signature)


def _read_csv(content: bytes, text: str) -> SignedStatement:
    # The last line is not signed: it must be exactly as the export writes it, so that no
    # byte of the file can change without the verification failing.
    body, _, last = text.removesuffix("\n").rpartition("\n")
    found = _CSV_SIGNATURE_LINE.fullmatch(last)
    if not text.endswith("\n") or found is None:
        raise StatementUnreadable(f"no `{CSV_SIGNATURE_PREFIX.strip()}` line at its end")
    key_id, signature = found["key_id"], _signature_bytes(found["signature"])
    signed = content[: len((body + "\n").encode())]
    header: dict[str, str] = {}
    rows = []
    for line in body.split("\n"):
        if line.startswith("# "):
            name, _, value = line[2:].partition(": ")
            header[name] = value
        else:
            rows.append(line)
    if header.get("format") != FORMAT:
        raise StatementUnreadable(f"not a {FORMAT} file")
    table = list(csv.DictReader(rows))
    account_id, currency = UUID(header["account_id"]), header["currency"]
    entries = tuple(_entry(account_id, currency, row) for row in table)
    document: dict[str, Any] = {
        **{name: header[name] or None for name in ("from", "to", "generated_at")},
        "opening": _csv_point(header["opening"]),
        "closing": _csv_point(header["closing"]),
    }
    statement, closing = _statement(document, account_id, currency, entries)
    return SignedStatement(statement, closing, signed, key_id, signature)


def _signature_bytes(encoded: str) -> bytes:
    """Base64 written as the export writes it: a decoder would also take other spellings of
    the same bytes (the unused low bits of the last character), which would be an edit the
    signature does not see."""
    signature = base64.b64decode(encoded, validate=True)
    if base64.b64encode(signature).decode() != encoded:
        raise StatementUnreadable("the signature is not canonical base64")
    return signature


def _csv_point(value: str) -> dict[str, Any]:
    fields = dict(part.split("=", 1) for part in value.split())
    return {
        "balance": int(fields["balance"]),
        "sequence": int(fields["sequence"]),
        "hash": fields["hash"],
    }


def _entry(account_id: UUID, currency: str, item: Mapping[str, Any]) -> ChainedEntry:
    return ChainedEntry(
        account_id=account_id,
        sequence=int(item["sequence"]),
        transfer_id=UUID(item["transfer_id"]),
        amount=int(item["amount"]),
        balance_after=int(item["balance_after"]),
        currency=currency,
        created_at=_moment(item["created_at"]),
        transfer_kind=str(item["transfer_kind"]),
        entry_hash=bytes.fromhex(item["entry_hash"]),
    )


def _statement(
    document: Mapping[str, Any],
    account_id: UUID,
    currency: str,
    entries: tuple[ChainedEntry, ...],
) -> tuple[Statement, ChainStart]:
    """The statement the file holds, and the closing it claims."""
    statement = Statement(
        account_id=account_id,
        currency=currency,
        since=None if document["from"] is None else _moment(document["from"]),
        until=None if document["to"] is None else _moment(document["to"]),
        generated_at=_moment(document["generated_at"]),
        opening=_chain_point(document["opening"]),
        entries=entries,
    )
    return statement, _chain_point(document["closing"])


def _chain_point(point: Mapping[str, Any]) -> ChainStart:
    return ChainStart(int(point["balance"]), int(point["sequence"]), bytes.fromhex(point["hash"]))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise StatementUnreadable(f"{text!r} has no time zone")
    return moment


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    line: str


def verify(signed: SignedStatement, public_keys: list[bytes]) -> Verdict:
    """The signature by one of `public_keys` (chosen by the key id the file names), then the
    chain: contiguous sequences, each balance the previous plus the amount, each hash chained
    from the opening hash, ending at the closing. The first thing that fails is the verdict."""
    by_id = {key_id_of(key): key for key in public_keys}
    key = by_id.get(signed.key_id)
    if key is None:
        known = ", ".join(sorted(by_id)) or "none"
        return Verdict(False, f"FAILED: signed by key {signed.key_id}; keys given: {known}")
    if not verifies(key, signed.signature, signed.signed):
        return Verdict(
            False, f"FAILED: the signature by key {signed.key_id} does not match the content"
        )
    statement = signed.statement
    found = statement.first_break()
    if found is not None:
        return Verdict(False, f"FAILED: entry {found.sequence}: {found.reason}")
    if signed.closing != statement.closing:
        end = statement.closing
        return Verdict(
            False,
            f"FAILED: the closing (balance {signed.closing.balance}, sequence"
            f" {signed.closing.sequence}, hash {signed.closing.hash.hex()}) is not where the"
            f" entries end (balance {end.balance}, sequence {end.sequence}, hash"
            f" {end.hash.hex()})",
        )
    opening, closing = statement.opening, statement.closing
    return Verdict(
        True,
        f"OK: account {statement.account_id}, {len(statement.entries)} entries, sequence"
        f" {opening.sequence} -> {closing.sequence}, balance {opening.balance} ->"
        f" {closing.balance} {statement.currency}, closing hash {closing.hash.hex()},"
        f" signed by key {signed.key_id}",
    )
