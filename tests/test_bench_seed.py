"""The benchmark's dataset generator (bench/seed.py) on a tiny dataset, so it cannot rot."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bench.seed import BENCH_FACILITATOR, BENCH_LEARNER, BENCH_MODULE, BENCH_PASSWORD, seed
from lms.models import (
    Cohort,
    CohortModule,
    Enrollment,
    Feedback,
    LessonProgress,
    Membership,
    MembershipRole,
    Module,
    Reflection,
    ReflectionRevision,
    Role,
    User,
)
from lms.people import credentials
from lms.storage import Storage


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_writes_the_benchmarks_dataset(app, db):
    summary = seed(db, Storage(Path(app.config["LMS_DATA_DIR"])), learners=20, cohort_size=12)

    assert _count(db, User, User.role == Role.LEARNER) == 20
    assert {m.slug for m in db.scalars(select(Module))} >= {BENCH_MODULE}
    assert _count(db, Module) == 5  # the four bundled modules and the generated one
    bench_module = db.scalar(select(Module).where(Module.slug == BENCH_MODULE))
    assert bench_module.lesson_count == 40
    assert summary.module_id == bench_module.id

    cohort = db.get(Cohort, summary.cohort_id)
    assert db.scalars(
        select(CohortModule.module_id).where(CohortModule.cohort_id == cohort.id)
    ).all() == [bench_module.id]
    roles = dict(
        db.execute(
            select(Membership.role, func.count())
            .where(Membership.cohort_id == cohort.id)
            .group_by(Membership.role)
        ).all()
    )
    assert roles == {MembershipRole.LEARNER: 12, MembershipRole.FACILITATOR: 1}

    # Every learner is enrolled in the 40-lesson module and one bundled module.
    assert _count(db, Enrollment) == 40
    counts = summary.counts
    assert counts["progress"] == _count(db, LessonProgress) > 0
    assert counts["reflections"] == _count(db, Reflection) > 0
    assert counts["revisions"] == _count(db, ReflectionRevision) >= counts["reflections"]
    assert counts["feedback"] == _count(db, Feedback)
    # Each reflection's revisions are numbered 1..revision_count.
    assert db.scalar(select(func.sum(Reflection.revision_count))) == counts["revisions"]


def test_the_accounts_it_makes_sign_in_with_the_bench_password(app, db):
    seed(db, Storage(Path(app.config["LMS_DATA_DIR"])), learners=3, cohort_size=3)
    for email in (BENCH_LEARNER, BENCH_FACILITATOR, "learner00003@bench.example"):
        user = credentials.find_user(db, email)
        assert credentials.check_password(user, BENCH_PASSWORD), email


def test_the_bench_learner_has_the_same_shape_at_every_size(app, db):
    seed(db, Storage(Path(app.config["LMS_DATA_DIR"])), learners=5, cohort_size=5)
    learner = credentials.find_user(db, BENCH_LEARNER)
    assert _count(db, Enrollment, Enrollment.user_id == learner.id) == 2
    assert _count(db, LessonProgress, LessonProgress.user_id == learner.id) == 21 + 2
