"""The schema comes from migrations only, and they agree with the models."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from lms import migrate
from lms.db import Base, database
from lms.models import Role
from tests.cohort_data import make_module, quick_users


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
    (learner,) = quick_users(db, Role.LEARNER)
    module = make_module(db, lessons=3)
    learner, prompt = learner.id, [lesson.prompts[0].id for lesson in module.lessons]
    db.commit()
    db.close()
    engine = database(app).engine
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "c3a1f0e7b9d2")
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
