"""Typed query parameters shared by the routes, bounded where Litestar validates them (400 with the
field named, in French through `coord.web.errors`) and documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from coord.core.pagination import MAX_PAGE
from coord.core.validation import DB_INT_MAX

# The id of a record in a filter (`?committee=12`): beyond 32 bits it names nothing and would not
# even reach the database (SQLite refuses integers beyond 64 bits, asyncpg beyond 32).
IdQuery = Annotated[int | None, Parameter(ge=1, le=DB_INT_MAX, description="Identifiant (entier positif, 32 bits)")]
# A page number of a list (`?page=3`).
PageQuery = Annotated[int | None, Parameter(ge=1, le=MAX_PAGE, description="Numéro de page (à partir de 1)")]
