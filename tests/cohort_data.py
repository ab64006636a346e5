"""Factories for cohorts, modules and learners' work, shared by the cohort-area tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session

from lms.models import (
    Cohort,
    Lesson,
    Membership,
    MembershipRole,
    Module,
    Prompt,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    Role,
    User,
    new_token,
)
from lms.people.credentials import hash_password
from tests.conftest import PASSWORD

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def quick_users(db: Session, *roles: Role) -> list[User]:
    """Accounts that sign in with the test password, hashed once per process: scrypt is slow."""
    users = [
        User(
            email=f"{role.value}-{new_token()[:10].lower()}@example.org",
            display_name=f"{role.value.title()} {n}",
            password_hash=_password_hash(),
            role=role,
        )
        for n, role in enumerate(roles, start=1)
    ]
    db.add_all(users)
    db.commit()
    return users


def make_module(db: Session, slug: str = "listening", lessons: int = 2) -> Module:
    """A module with lessons of one prompt each, committed."""
    module = Module(slug=slug, title=slug.title(), version="1.0", lesson_count=lessons)
    db.add(module)
    db.flush()
    for n in range(1, lessons + 1):
        lesson = Lesson(module_id=module.id, slug=f"lesson-{n}", position=n, title=f"Lesson {n}")
        db.add(lesson)
        db.flush()
        db.add(Prompt(lesson_id=lesson.id, key=f"p{n}", position=1, text=f"What did {n} teach?"))
    db.commit()
    return module


def make_cohort(
    db: Session,
    name: str = "Spring cohort",
    modules: list[Module] = (),
    facilitators: list[User] = (),
    learners: list[User] = (),
) -> Cohort:
    """A cohort with its modules, facilitators and learners, committed."""
    cohort = Cohort(name=name)
    cohort.modules = list(modules)
    db.add(cohort)
    db.flush()
    for user in facilitators:
        db.add(Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.FACILITATOR))
    for user in learners:
        db.add(Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.LEARNER))
    db.commit()
    return cohort


def submit(db: Session, user: User, prompt: Prompt, body: str, minutes: int = 0) -> Reflection:
    """A submitted reflection with one revision, committed."""
    at = T0 + timedelta(minutes=minutes)
    reflection = Reflection(
        user_id=user.id,
        prompt_id=prompt.id,
        state=ReflectionState.SUBMITTED,
        revision_count=1,
        current_body=body,
        submitted_at=at,
        submitted_revision=1,
        submitted_body=body,
        updated_at=at,
    )
    db.add(reflection)
    db.flush()
    db.add(
        ReflectionRevision(
            reflection_id=reflection.id,
            number=1,
            body=body,
            submitted=True,
            prompt_text=prompt.text,
        )
    )
    db.commit()
    return reflection
