"""Performance budgets, counted in SQL statements: pages cost the same whatever the data."""

from __future__ import annotations

from sqlalchemy import select

from lms import reflections
from lms.db import now_utc
from lms.models import (
    Lesson,
    LessonProgress,
    ProgressStatus,
    Prompt,
    Reflection,
    ReflectionState,
)
from tests.factories import make_enrollment, make_module, make_user

# A learner's first visit: the user; the module, the enrollment, the outline, the
# lesson's prompts, the learner's reflections and files (one statement, lms/lesson_view.py);
# the lesson's text and files (read only while its fragment is not cached yet); the
# progress upsert and the resume point. Reopened within the minute, from the cache: the
# first two.
LESSON_PAGE_BUDGET = 6
LESSON_PAGE_AGAIN = 2


def _crowd(db, module, learners: int) -> None:
    """Other learners with progress and submitted answers in every lesson of the module."""
    lessons = list(db.scalars(select(Lesson).where(Lesson.module_id == module.id)))
    prompts = list(
        db.scalars(select(Prompt).join(Prompt.lesson).where(Lesson.module_id == module.id))
    )
    people = [make_user(db, name="Crowd", commit=False) for _ in range(learners)]
    now = now_utc()
    for other in people:
        db.add_all(
            LessonProgress(user_id=other.id, lesson_id=lesson.id, status=ProgressStatus.COMPLETE)
            for lesson in lessons
        )
        db.add_all(
            Reflection(
                user_id=other.id,
                prompt_id=prompt.id,
                state=ReflectionState.SUBMITTED,
                revision_count=1,
                current_body="An answer",
                submitted_at=now,
                submitted_revision=1,
                submitted_body="An answer",
            )
            for prompt in prompts
        )
    db.commit()


def _lesson_page_cost(client, count_queries, db, learner, *, lessons: int, crowd: int) -> int:
    module = make_module(
        db,
        lessons=lessons,
        prompts=[{}, {"accepts_files": True}],
        attachments=2,
        data_dir=client.application.config["LMS_DATA_DIR"],
    )
    _crowd(db, module, crowd)
    make_enrollment(db, learner, module)
    # The learner is mid-way: lessons done, answers written, now on the last lesson.
    for lesson in db.scalars(
        select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position)
    ):
        db.add(
            LessonProgress(user_id=learner.id, lesson_id=lesson.id, status=ProgressStatus.COMPLETE)
        )
    db.commit()
    url = f"/modules/{module.slug}/lessons/lesson-{lessons}"
    with count_queries as q:
        response = client.get(url)
    assert response.status_code == 200
    assert f"Lesson {lessons} of {lessons}" in response.get_data(as_text=True)
    with count_queries as again:
        assert client.get(url).status_code == 200
    assert again.count == LESSON_PAGE_AGAIN, again.statements
    return q.count, q.statements


def test_the_lesson_page_costs_the_same_at_3_and_40_lessons(
    client, auth, count_queries, db, make_user
):
    learner = make_user()
    auth.login(learner.email)
    small, small_statements = _lesson_page_cost(
        client, count_queries, db, learner, lessons=3, crowd=2
    )
    large, large_statements = _lesson_page_cost(
        client, count_queries, db, learner, lessons=40, crowd=25
    )
    assert small == large, (small_statements, large_statements)
    assert large <= LESSON_PAGE_BUDGET, large_statements
    print(f"lesson page: {small} statements at 3 lessons, {large} at 40 lessons")


def test_my_learning_costs_the_same_for_1_and_12_enrollments(
    client, auth, count_queries, db, make_user
):
    learner = make_user()
    auth.login(learner.email)

    def cost() -> int:
        with count_queries as q:
            response = client.get("/learning")
        assert response.status_code == 200
        return q.count

    first = make_module(db, lessons=2, prompts=0)
    make_enrollment(db, learner, first)
    one = cost()
    for _ in range(11):
        module = make_module(db, lessons=3, prompts=0)
        make_enrollment(db, learner, module)
    twelve = cost()
    # The user, the enrollments with their progress, the count of unread feedback.
    assert one == twelve == 3


def test_the_catalog_and_my_work_cost_the_same_whatever_the_data(
    client, auth, count_queries, db, make_user
):
    learner = make_user()
    auth.login(learner.email)

    def cost(path: str) -> int:
        with count_queries as q:
            assert client.get(path).status_code == 200
        return q.count

    module = make_module(db, lessons=1, prompts=1)
    make_enrollment(db, learner, module)
    prompt = db.scalar(select(Prompt).join(Prompt.lesson).where(Lesson.module_id == module.id))
    reflections.save_draft(db, learner, prompt, "A first answer", based_on=0)
    db.commit()
    before = (cost("/modules"), cost("/my-work"))
    for _ in range(5):
        module = make_module(db, lessons=2, prompts=2)
        make_enrollment(db, learner, module)
        for prompt in db.scalars(
            select(Prompt).join(Prompt.lesson).where(Lesson.module_id == module.id)
        ):
            reflections.save_draft(db, learner, prompt, "Some thoughts", based_on=0)
        db.commit()
    assert (cost("/modules"), cost("/my-work")) == before
