from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine

from coord.core.migrations import create_index, drop_index

ID = "2026-12-03T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "amendments' indexes; amendments opened before this release get their own record"

# Before this release an amendment was the convention itself put back « in signature »:
# `convention.amendment` was the number of the last amendment opened, its subject in
# `amendment_subject`, `signed_on` cleared until its round was complete. Each amendment becomes a
# `convention_amendment` row; a convention still waiting for its amendment's signatures is in
# force again on its previous text (the periodic job settles its status and dates on its next run,
# from `next_transition_on`), with an audit entry saying why.

# The amendment of each round 1..N of a convention with N > 0: the last one is in force if its
# round was complete (signed_on set again), open if the convention is still in signature, lapsed
# if the convention ended meanwhile; the earlier ones were all signed (one could only amend a
# convention in force). Subjects of earlier amendments come from the audit log when it has them.
AMENDMENTS = """
WITH RECURSIVE rounds (convention, number) AS (
    SELECT id, 1 FROM convention WHERE amendment > 0
    UNION ALL
    SELECT r.convention, r.number + 1 FROM rounds r JOIN convention c ON c.id = r.convention
    WHERE r.number < c.amendment
),
states AS (
    SELECT r.convention, r.number,
        CASE
            WHEN r.number < c.amendment OR c.signed_on IS NOT NULL THEN 'in_force'
            WHEN c.status = 'in_signature' THEN 'open'
            ELSE 'lapsed'
        END AS status
    FROM rounds r JOIN convention c ON c.id = r.convention
)
INSERT INTO convention_amendment
    (department, convention, number, subject, text, status, signed_on, in_force_from, closed_on,
     close_reason, created_at, updated_at)
SELECT
    c.department, c.id, s.number,
    CASE WHEN s.number = c.amendment THEN c.amendment_subject
        ELSE COALESCE((SELECT {subject} FROM audit_entry a
                       WHERE a.entity = 'convention' AND a.entity_id = c.id AND a.action = 'amend'
                       AND {number} = s.number ORDER BY a.id DESC LIMIT 1), '')
    END,
    '',
    s.status,
    CASE WHEN s.status = 'in_force' THEN {signed} END,
    CASE WHEN s.status = 'in_force' THEN {signed} END,
    CASE WHEN s.status = 'lapsed' THEN c.terminated_on END,
    CASE WHEN s.status = 'lapsed'
        THEN 'La convention a pris fin avant que toutes les signatures de l''avenant soient recueillies.'
        ELSE '' END,
    COALESCE(
        (SELECT MAX(a.at) FROM audit_entry a
         WHERE a.entity = 'convention' AND a.entity_id = c.id AND a.action = 'amend' AND {number} = s.number),
        (SELECT MIN(g.created_at) FROM convention_signatory g WHERE g.convention = c.id AND g.amendment = s.number),
        c.updated_at
    ),
    c.updated_at
FROM states s JOIN convention c ON c.id = s.convention
"""
SIGNED = (
    "(SELECT MAX(g.signed_on) FROM convention_signatory g "
    "WHERE g.convention = c.id AND g.amendment = s.number AND g.status = 'signed')"
)

# Conventions put back in signature by an amendment still unsigned: in force again.
REPAIRED = "amendment > 0 AND signed_on IS NULL AND status = 'in_signature'"
AUDIT = f"""
INSERT INTO audit_entry (at, actor_user_id, actor, department, action, entity, entity_id, summary, before, after, ip)
SELECT CURRENT_TIMESTAMP, NULL, 'système', department, 'upgrade', 'convention', id,
    SUBSTR('Mise à niveau : « ' || title || ' » reste en vigueur pendant la signature de l''avenant n° '
        || amendment, 1, 300),
    {{json_open}}'{{{{"status": "in_signature", "amendment": ' || amendment || '}}}}'{{json_close}},
    {{json_open}}'{{{{"status": "in_force", "amendment": ' || (amendment - 1) || '}}}}'{{json_close}},
    ''
FROM convention WHERE {REPAIRED}
"""
# The text in force is the one before an amendment that never completed; `signed_on` is the date
# the original text was signed (it used to be overwritten by each amendment's).
TEXT_IN_FORCE = f"""
UPDATE convention SET
    status = CASE WHEN {REPAIRED} THEN 'in_force' ELSE status END,
    next_transition_on = CASE WHEN {REPAIRED} THEN effective_from ELSE next_transition_on END,
    amendment_subject = CASE WHEN signed_on IS NULL
        THEN COALESCE((SELECT ca.subject FROM convention_amendment ca
                       WHERE ca.convention = convention.id AND ca.number = convention.amendment - 1), '')
        ELSE amendment_subject END,
    amendment = CASE WHEN signed_on IS NULL THEN amendment - 1 ELSE amendment END,
    signed_on = COALESCE((SELECT MAX(g.signed_on) FROM convention_signatory g
                          WHERE g.convention = convention.id AND g.amendment = 0 AND g.status = 'signed'), signed_on)
WHERE amendment > 0
"""


async def backfill(engine: Engine | None = None) -> None:
    """Piccolo calls it without arguments (the configured engine); tests pass theirs."""
    engine = engine or engine_finder()
    assert engine is not None
    amended = await engine.run_ddl("SELECT COUNT(*) AS amended FROM convention WHERE amendment > 0")
    if not amended or not amended[0]["amended"]:
        return  # a new database, or one without amendments: nothing to carry over
    if engine.engine_type == "sqlite":
        number, subject = "json_extract(a.after, '$.amendment')", "json_extract(a.after, '$.amendment_subject')"
    else:
        number = "CAST(a.after::jsonb ->> 'amendment' AS INTEGER)"
        subject = "(a.after::jsonb ->> 'amendment_subject')"
    await engine.run_ddl(AMENDMENTS.format(number=number, subject=subject, signed=SIGNED))
    # PostgreSQL casts text to json only when told; SQLite stores JSON as text (a cast would make it a number).
    json_open, json_close = ("", "") if engine.engine_type == "sqlite" else ("CAST(", " AS json)")
    await engine.run_ddl(AUDIT.format(json_open=json_open, json_close=json_close))
    await engine.run_ddl(TEXT_IN_FORCE)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="conventions", description=DESCRIPTION)
    manager.add_raw(
        create_index("convention_amendment_number_key", "convention_amendment", ["convention", "number"], unique=True)
    )
    manager.add_raw_backwards(drop_index("convention_amendment_number_key"))
    # At most one amendment being signed per convention, even when two agents open one at once.
    manager.add_raw(
        create_index(
            "convention_amendment_one_open",
            "convention_amendment",
            ["convention"],
            unique=True,
            where="status = 'open'",
        )
    )
    manager.add_raw_backwards(drop_index("convention_amendment_one_open"))
    manager.add_raw(backfill)
    return manager
