"""Benchmark rows for conventions: ten per département over ten years, four signatories each."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

from coord.conventions.models import load_models

CONVENTIONS_PER_DEPARTMENT = 10
SIGNATORIES_PER_CONVENTION = 4


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def generate(db: sqlite3.Connection, rng: random.Random, scale: float, now: dt.datetime) -> dict[str, int]:
    models = sorted(load_models().values(), key=lambda model: model.code)
    per_department = max(1, round(CONVENTIONS_PER_DEPARTMENT * min(scale, 1)))
    organisations: dict[int, list[int]] = {}
    for organisation, department in db.execute("SELECT id, department FROM organisation ORDER BY id"):
        organisations.setdefault(department, []).append(organisation)
    created = _ts(now)
    next_id = (db.execute("SELECT coalesce(max(id), 0) FROM convention").fetchone()[0]) + 1
    conventions, signatories = [], []
    for department, orgs in organisations.items():
        for number in range(per_department):
            signed = (now - dt.timedelta(days=365 * number + rng.randint(0, 300))).date()
            ends = signed + dt.timedelta(days=3 * 365)
            status = "in_force" if ends > now.date() else "expired"
            if number == 0 and rng.random() < 0.3:
                status = "in_signature"
            conventions.append(
                (
                    next_id,
                    department,
                    (model := models[number % len(models)]).code,
                    f"Convention {department}-{number}",
                    status,
                    signed.isoformat(),
                    signed.isoformat(),
                    ends.isoformat(),
                    created,
                    created,
                )
            )
            roles = [requirement.role for requirement in model.signatories][:SIGNATORIES_PER_CONVENTION]
            for position, role in enumerate(roles):
                signatories.append(
                    (
                        department,
                        next_id,
                        orgs[position % len(orgs)],
                        role,
                        "signed" if status != "in_signature" else "sent",
                        signed.isoformat(),
                        created,
                        created,
                    )
                )
            next_id += 1
    db.executemany(
        "INSERT INTO convention (id, department, model_code, title, status, signed_on, effective_from, ends_on, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        conventions,
    )
    db.executemany(
        "INSERT INTO convention_signatory (department, convention, organisation, role, status, signed_on, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
        signatories,
    )
    return {"conventions": len(conventions), "convention_signatories": len(signatories)}
