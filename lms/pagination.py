"""One way to page every list: LIMIT n+1 tells whether there is a next page, no COUNT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_PER_PAGE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number(raw: str | None) -> int:
    """A page number from a query string: bad or missing values mean page 1."""
    try:
        return max(1, min(int(raw or 1), 100_000))
    except ValueError:
        return 1


def paginate(
    session: Session, statement: Select, number: int, per_page: int = DEFAULT_PER_PAGE
) -> Page:
    """One page of an ordered statement's rows (scalars when it selects one entity)."""
    rows = list(session.scalars(statement.limit(per_page + 1).offset((number - 1) * per_page)))
    return Page(items=rows[:per_page], number=number, has_next=len(rows) > per_page)
