"""The tutorial approach, kept as the bar to beat: what the FastAPI + SQLAlchemy 2 async guides
teach. One session per request from a dependency, `db.get(..., with_for_update=True)` for the
source then the destination in request order, ORM updates, commit. It deadlocks when two
transfers cross (and answers 500), which is the point of keeping it: do not copy it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import BigInteger, DateTime, ForeignKey, Text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(
    os.environ["DATABASE_URL"],
    pool_size=int(os.environ.get("HEXBANK_DB_POOL_SIZE", "10")),
    max_overflow=int(os.environ.get("HEXBANK_DB_MAX_OVERFLOW", "10")),
)
async_session = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "baseline_accounts"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)


class Transfer(Base):
    __tablename__ = "baseline_transfers"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    from_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("baseline_accounts.id"))
    to_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("baseline_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


async def get_db() -> AsyncIterator[AsyncSession]:
    async with async_session() as session:
        yield session


class TransferIn(BaseModel):
    from_account_id: uuid.UUID
    to_account_id: uuid.UUID
    amount: int
    currency: str
    description: str | None = None


app = FastAPI()


@app.post("/transfers", status_code=201)
async def transfer(body: TransferIn, db: AsyncSession = Depends(get_db)) -> dict[str, object]:
    async with db.begin():
        source = await db.get(Account, body.from_account_id, with_for_update=True)
        destination = await db.get(Account, body.to_account_id, with_for_update=True)
        if source is None or destination is None:
            raise HTTPException(404, "Account not found")
        if source.balance < body.amount:
            raise HTTPException(422, "Insufficient funds")
        source.balance -= body.amount
        destination.balance += body.amount
        record = Transfer(
            from_account_id=source.id,
            to_account_id=destination.id,
            amount=body.amount,
            currency=body.currency,
            description=body.description,
        )
        db.add(record)
    return {
        "id": str(record.id),
        "from_account_id": str(record.from_account_id),
        "to_account_id": str(record.to_account_id),
        "amount": record.amount,
        "currency": record.currency,
        "created_at": record.created_at.isoformat(),
    }


@app.get("/accounts/{account_id}")
async def get_account(
    account_id: uuid.UUID, db: AsyncSession = Depends(get_db)
) -> dict[str, object]:
    account = await db.get(Account, account_id)
    if account is None:
        raise HTTPException(404, "Account not found")
    return {"id": str(account.id), "balance": account.balance}
