"""The schema comes from migrations only, and they agree with the models."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Integer, delete, func, inspect, select, text

from lms.db import Base
from lms.models import Membership, Reflection, Role, User
from lms.ops import migrate
from lms.web.database import database
from tests.factories import make_cohort, make_module, make_reflection, make_users


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1


def test_migrated_database_matches_the_models(app):
    engine = database(app).engine
    assert migrate.differences(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_is_idempotent(app):
    engine = database(app).engine
    migrate.upgrade(engine)
    assert migrate.differences(engine) == []


def test_db_check_command_reports_agreement(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_answers_submitted_before_drafts_were_kept_apart_keep_their_submitted_text(app, db):
    """5b7d1e2a9c40 copies each answer's last submitted revision; drafts on top stay out."""
    (learner,) = make_users(db, Role.LEARNER)
    module = make_module(db, lessons=3)
    learner, prompt = learner.id, [lesson.prompts[0].id for lesson in module.lessons]
    db.commit()
    db.close()
    engine = database(app).engine
    migrate.downgrade(engine, "c3a1f0e7b9d2")
    at = "2026-11-01 10:00:00"
    with engine.begin() as connection:
        for prompt_id, state, submitted_at, texts in [
            (prompt[0], "draft", at, [("First, submitted", True), ("Then a draft", False)]),
            (prompt[1], "submitted", at, [("Draft", False), ("Submitted", True)]),
            (prompt[2], "draft", None, [("Never submitted", False)]),
        ]:
            reflection_id = connection.execute(
                text(
                    "INSERT INTO reflection (user_id, prompt_id, state, revision_count,"
                    " current_body, created_at, updated_at, submitted_at, review_state)"
                    " VALUES (:u, :p, :s, :n, :b, :at, :at, :sa, 'new') RETURNING id"
                ),
                {"u": learner, "p": prompt_id, "s": state, "n": len(texts), "b": texts[-1][0]}
                | {"at": at, "sa": submitted_at},
            ).scalar_one()
            for number, (body, submitted) in enumerate(texts, 1):
                connection.execute(
                    text(
                        "INSERT INTO reflection_revision (reflection_id, number, body, submitted,"
                        " prompt_text, created_at) VALUES (:r, :n, :b, :s, '?', :at)"
                    ),
                    {"r": reflection_id, "n": number, "b": body, "s": submitted, "at": at},
                )

    migrate.upgrade(engine)

    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT prompt_id, submitted_revision, submitted_body FROM reflection"
                " ORDER BY prompt_id"
            )
        ).all()
    assert [tuple(row)[1:] for row in rows] == [
        (1, "First, submitted"),
        (2, "Submitted"),
        (None, None),
    ]


def _tables_with_integer_ids():
    return [
        table
        for table in Base.metadata.sorted_tables
        if [column.name for column in table.primary_key] == ["id"]
        and isinstance(table.c.id.type, Integer)
    ]


def test_every_table_with_integer_ids_never_hands_one_out_twice(app):
    """SQLite reuses max(rowid) + 1 unless a table says AUTOINCREMENT."""
    tables = _tables_with_integer_ids()
    assert len(tables) >= 20
    assert all(table.dialect_kwargs.get("sqlite_autoincrement") for table in tables)
    engine = database(app).engine
    if engine.dialect.name == "sqlite":  # PostgreSQL's sequences never go back
        with engine.connect() as connection:
            created = dict(
                connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                ).all()
            )
        assert [t.name for t in tables if "AUTOINCREMENT" not in created[t.name]] == []


def test_the_id_of_an_erased_newest_account_goes_to_nobody_else(db):
    ids = []
    for _ in range(3):
        (user,) = make_users(db, Role.LEARNER)
        ids.append(user.id)
        db.execute(delete(User).where(User.id == user.id))
        db.commit()
    (after,) = make_users(db, Role.LEARNER)
    assert len(set(ids)) == 3
    assert after.id > max(ids)


def test_rebuilding_the_tables_for_autoincrement_keeps_every_row(app, db):
    """23965715ad33 rebuilds every table on SQLite: no cascade may delete a row."""
    learner, facilitator = make_users(db, Role.LEARNER, Role.FACILITATOR)
    module = make_module(db, lessons=2)
    make_cohort(db, modules=[module], facilitators=[facilitator], learners=[learner])
    make_reflection(db, learner, module.lessons[0].prompts[0], "Kept through the rebuild")
    db.commit()
    engine = database(app).engine
    tables = [t.name for t in _tables_with_integer_ids()]
    before = _row_counts(engine, tables)
    db.close()

    migrate.downgrade(engine, "5b7d1e2a9c40")
    # Tables made by later migrations (media_variant) do not exist at that revision.
    rebuilt = [name for name in tables if name in inspect(engine).get_table_names()]
    assert _row_counts(engine, rebuilt) == {name: before[name] for name in rebuilt}
    migrate.upgrade(engine)

    assert _row_counts(engine, tables) == before
    with engine.connect() as connection:
        public_ids = connection.scalars(select(User.public_id)).all()
        tokens = connection.scalars(select(Membership.calendar_token)).all()
        body = connection.scalar(select(Reflection.current_body))
    assert len(set(public_ids)) == len(public_ids) == 2
    assert all(len(token) >= 32 for token in [*public_ids, *tokens])
    assert len(set(tokens)) == len(tokens) == 2
    assert body == "Kept through the rebuild"


def _row_counts(engine, tables) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(Base.metadata.tables[name]))
            for name in tables
        }
