"""The canonical entry encoding byte by byte (docs/statements.md), built here field by field
without domain/chain.py's structs, and the write path's one-step hash against the definition
that verifiers use: a faster write path must never hash other bytes than they check."""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.account import Account, AccountKind
from domain.chain import GENESIS_HASH, TransferEncoding, chain_hash, encode_entry
from domain.ledger import move
from domain.transfer import Transfer, TransferKind, TransferStatus

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
KINDS = st.sampled_from([kind.value for kind in TransferKind])
CURRENCIES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)


def by_hand(
    account_id: UUID,
    sequence: int,
    transfer_id: UUID,
    amount: int,
    balance_after: int,
    currency: str,
    created_at: datetime,
    kind: str,
) -> bytes:
    micros = calendar.timegm(created_at.utctimetuple()) * 1_000_000 + created_at.microsecond

    def int64(value: int) -> bytes:
        return value.to_bytes(8, "big", signed=True)

    return b"".join(
        [
            account_id.bytes,
            int64(sequence),
            transfer_id.bytes,
            int64(amount),
            int64(balance_after),
            currency.encode("ascii"),
            int64(micros),
            bytes([len(kind)]),
            kind.encode("ascii"),
        ]
    )


def test_one_entry_encodes_as_documented_and_chains_from_the_genesis_hash() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    encoded = encode_entry(
        account_id=UUID(int=1),
        sequence=7,
        transfer_id=UUID(int=2),
        amount=-250,
        balance_after=1000,
        currency="EUR",
        created_at=moment,
        transfer_kind="transfer",
    )
    assert encoded == bytes.fromhex(
        "00000000000000000000000000000001"
        "0000000000000007"
        "00000000000000000000000000000002"
        "ffffffffffffff06"
        "00000000000003e8"
        "455552"
        "0006475ef64cf346"
        "08"
        "7472616e73666572"
    )
    assert chain_hash(GENESIS_HASH, encoded) == hashlib.sha256(bytes(32) + encoded).digest()


@given(
    st.uuids(),
    INT64,
    st.uuids(),
    INT64,
    INT64,
    CURRENCIES,
    MOMENTS,
    KINDS,
    st.binary(min_size=32, max_size=32),
)
def test_the_write_paths_one_step_hash_is_the_documented_chain(
    account_id: UUID,
    sequence: int,
    transfer_id: UUID,
    amount: int,
    balance_after: int,
    currency: str,
    created_at: datetime,
    kind: str,
    previous: bytes,
) -> None:
    expected = by_hand(
        account_id, sequence, transfer_id, amount, balance_after, currency, created_at, kind
    )
    encoding = TransferEncoding(
        transfer_id=transfer_id, currency=currency, created_at=created_at, transfer_kind=kind
    )
    assert encoding.encode(account_id, sequence, amount, balance_after) == expected
    assert (
        encode_entry(
            account_id=account_id,
            sequence=sequence,
            transfer_id=transfer_id,
            amount=amount,
            balance_after=balance_after,
            currency=currency,
            created_at=created_at,
            transfer_kind=kind,
        )
        == expected
    )
    assert encoding.chain(previous, account_id, sequence, amount, balance_after) == (
        hashlib.sha256(previous + expected).digest()
    )


def _account(number: int, balance: int, head: bytes) -> Account:
    return Account(
        id=UUID(int=number),
        owner_id=UUID(int=100),
        currency="EUR",
        balance=balance,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        kind=AccountKind.CUSTOMER,
        entry_count=3,
        head_hash=head,
    )


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(list(TransferKind)))
def test_both_entries_of_a_movement_chain_from_their_own_accounts_head(
    amount: int, kind: TransferKind
) -> None:
    source_head, destination_head = b"\x01" * 32, b"\x02" * 32
    source, destination = _account(1, 10**7, source_head), _account(2, 5, destination_head)
    now = datetime(2026, 3, 4, tzinfo=UTC) + timedelta(microseconds=amount)
    transfer = Transfer(
        id=UUID(int=9),
        from_account_id=source.id,
        to_account_id=destination.id,
        amount=amount,
        currency="EUR",
        description=None,
        created_at=now,
        kind=kind,
        status=TransferStatus.POSTED,
        posted_amount=amount,
        reversal_of=UUID(int=8) if kind is TransferKind.REVERSAL else None,
        conversion_id=UUID(int=7) if kind is TransferKind.CONVERSION else None,
    )
    debit, credit = move(transfer, source, destination, amount, now)
    for entry, previous, account in (
        (debit, source_head, source),
        (credit, destination_head, destination),
    ):
        assert entry.entry_hash == chain_hash(
            previous,
            by_hand(
                account.id,
                entry.sequence,
                transfer.id,
                entry.amount,
                entry.balance_after,
                "EUR",
                now,
                kind.value,
            ),
        )
        assert account.head_hash == entry.entry_hash
    assert (debit.amount, debit.balance_after) == (-amount, 10**7 - amount)
    assert (credit.amount, credit.balance_after) == (amount, 5 + amount)
