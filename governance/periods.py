"""Months and periods: 'YYYY-MM' parsing, period bounds and the previous period of equal length."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str | None) -> dt.date | None:
    """'2023-06' -> date(2023, 6, 1); anything else -> None."""
    if not text or len(text) > 7:
        return None
    m = _MONTH.match(text)
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        return None
    return dt.date(year, month, 1)


def fmt_month(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(d: dt.date, n: int) -> dt.date:
    k = d.year * 12 + d.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def month_end(d: dt.date) -> dt.date:
    return add_months(d, 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out


@dataclass(frozen=True)
class Period:
    """Whole months from `first` to `last` (both month starts), inclusive."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.date:
        return self.first

    @property
    def end(self) -> dt.date:
        """Last day of the period: the as-of date D for stock indicators."""
        return month_end(self.last)

    @property
    def n_months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def previous(self) -> "Period":
        """The period of equal length just before this one."""
        return Period(add_months(self.first, -self.n_months), add_months(self.first, -1))

    def label(self) -> str:
        return f"{fmt_month(self.first)} 至 {fmt_month(self.last)}"

    def params(self) -> dict:
        return {"start": self.start, "end": self.end, "as_of": self.end}
