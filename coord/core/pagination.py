"""Pagination shared by lists on pages and in the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from coord.core.errors import ValidationFailed

MAX_PER_PAGE = 200
MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @classmethod
    def parse(cls, page: Any, per_page: Any, default_per_page: int = 50) -> PageRequest:
        errors: dict[str, str] = {}
        try:
            page_n = int(page) if page not in (None, "") else 1
            if not 1 <= page_n <= MAX_PAGE:
                raise ValueError
        except (TypeError, ValueError):
            errors["page"] = f"Le numéro de page doit être un entier entre 1 et {MAX_PAGE}."
            page_n = 1
        try:
            per = int(per_page) if per_page not in (None, "") else default_per_page
            if not 1 <= per <= MAX_PER_PAGE:
                raise ValueError
        except (TypeError, ValueError):
            errors["per_page"] = f"Le nombre d'éléments par page doit être compris entre 1 et {MAX_PER_PAGE}."
            per = default_per_page
        if errors:
            raise ValidationFailed(errors)
        return cls(page=page_n, per_page=per)


class Paginated(msgspec.Struct):
    items: list[Any]
    total: int
    page: int
    per_page: int
    pages: int


def paginated(items: list[Any], total: int, request: PageRequest) -> Paginated:
    pages = max(1, -(-total // request.per_page))
    return Paginated(items=items, total=total, page=request.page, per_page=request.per_page, pages=pages)
