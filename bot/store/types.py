"""Column types the models need that SQLAlchemy does not ship."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class FractionType(TypeDecorator[Fraction]):
    """An exact rational stored as text ("7/3").

    The fairness ledger adds shares like w/W on every lead; floats would make ties
    and the `lag > 0` test depend on rounding, so the ledger is exact end to end.
    """

    impl = String(200)
    cache_ok = True

    def process_bind_param(self, value: Fraction | int | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        value = Fraction(value)
        return f"{value.numerator}/{value.denominator}"

    def process_result_value(self, value: Any, dialect: Dialect) -> Fraction | None:
        if value is None:
            return None
        numerator, _, denominator = value.partition("/")  # two ints: no regex parse
        return Fraction(int(numerator), int(denominator or 1))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
