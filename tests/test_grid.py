"""The progress grid: cells, percent, last activity, sorting, CSV export, access, budgets."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert

from lms.models import LessonProgress, Membership, MembershipRole, ProgressStatus, Role, User
from tests.factories import T0, make_cohort, make_module, make_users


def _progress(db, user, lesson, status, day):
    db.add(
        LessonProgress(
            user_id=user.id,
            lesson_id=lesson.id,
            status=status,
            last_visited_at=T0 + timedelta(days=day),
        )
    )


@pytest.fixture
def world(db):
    facilitator, other_facilitator, ana, ben, cai = make_users(
        db, Role.FACILITATOR, Role.FACILITATOR, Role.LEARNER, Role.LEARNER, Role.LEARNER
    )
    ana.display_name, ben.display_name, cai.display_name = "Ana", "Ben", "=Cai"
    module = make_module(db, lessons=4, lesson_title="Lesson {n}")
    unrelated = make_module(db, slug="unrelated", title="Unrelated", lessons=1)
    cohort = make_cohort(db, "A", [module], [facilitator], [ana, ben, cai])
    make_cohort(db, "B", [module, unrelated], [other_facilitator], [])
    first, second, third, _fourth = module.lessons
    _progress(db, ana, first, ProgressStatus.COMPLETE, 1)
    _progress(db, ana, second, ProgressStatus.IN_PROGRESS, 5)
    _progress(db, ben, first, ProgressStatus.COMPLETE, 2)
    _progress(db, ben, second, ProgressStatus.COMPLETE, 3)
    _progress(db, ben, third, ProgressStatus.COMPLETE, 4)
    db.commit()
    path = f"/facilitate/cohorts/{cohort.id}/modules/{module.id}/progress"
    people = {"facilitator": facilitator, "other": other_facilitator, "ana": ana}
    return people, path, unrelated.id


def _names(page):
    """The learners' names in the order the grid shows them."""
    found = [(page.find(f'<th scope="row">{name}<'), name) for name in ("Ana", "Ben", "=Cai")]
    return [name for position, name in sorted(found) if position >= 0]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["=Cai", "Ana", "Ben"]),
        ("-name", ["Ben", "Ana", "=Cai"]),
        ("progress", ["=Cai", "Ana", "Ben"]),
        ("-progress", ["Ben", "Ana", "=Cai"]),
        ("activity", ["=Cai", "Ben", "Ana"]),
        ("-activity", ["Ana", "Ben", "=Cai"]),
        ("bogus", ["=Cai", "Ana", "Ben"]),
    ],
)
def test_grid_sorts(world, auth, sort, order):
    people, path, _unrelated = world
    auth.login(people["facilitator"].email)
    page = auth.client.get(f"{path}?sort={sort}").get_data(as_text=True)
    assert _names(page) == order


def test_grid_shows_cells_percent_and_last_activity(world, auth):
    people, path, _unrelated = world
    auth.login(people["facilitator"].email)
    page = auth.client.get(path).get_data(as_text=True)
    ana = page[page.index('<th scope="row">Ana') : page.index("</tr>", page.index('"row">Ana'))]
    assert "25%" in ana
    assert "2026-03-06" in ana
    assert ">March 6, 2026</time>" in ana
    assert (ana.count("✓"), ana.count("◐"), ana.count("·")) == (1, 1, 2)


def test_grid_rows_escape_learners_names(world, auth, db):
    people, path, _unrelated = world
    people["ana"].display_name = 'Ana <script>alert("x")</script> & co'
    db.commit()
    auth.login(people["facilitator"].email)
    page = auth.client.get(path).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "Ana &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</th>" in page


def test_grid_rows_are_complete_rows_of_the_table(world, auth):
    people, path, _unrelated = world
    auth.login(people["facilitator"].email)
    page = auth.client.get(path).get_data(as_text=True)
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    assert body.count("<tr>") == body.count("</tr>") == 3
    assert body.count("<td>") == 3 * (2 + 4)


def test_csv_rows_match_the_grid_and_defuse_formulas(world, auth):
    people, path, _unrelated = world
    auth.login(people["facilitator"].email)
    response = auth.client.get(f"{path}.csv?sort=-progress")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["name", "email", "percent", "last_activity"] + [
        f"Lesson {n}" for n in range(1, 5)
    ]
    assert [(r[0], r[2]) for r in rows[1:]] == [("Ben", "75"), ("Ana", "25"), ("'=Cai", "0")]
    assert rows[2][4:] == ["complete", "in_progress", "not_started", "not_started"]
    assert rows[2][3] == "2026-03-06T09:00:00+00:00"


@pytest.mark.parametrize("sort", ["", "-name", "progress", "-progress", "activity", "-activity"])
def test_csv_lists_the_learners_in_the_grids_order(world, auth, sort):
    people, path, _unrelated = world
    auth.login(people["facilitator"].email)
    page = auth.client.get(f"{path}?sort={sort}").get_data(as_text=True)
    body = auth.client.get(f"{path}.csv?sort={sort}").get_data(as_text=True)
    names = [row[0] for row in list(csv.reader(io.StringIO(body)))[1:]]
    assert names == [name.replace("=", "'=") for name in _names(page)]


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_other_facilitators_and_other_modules_get_404(world, auth, suffix):
    people, path, unrelated = world
    auth.login(people["other"].email)
    assert auth.client.get(path + suffix).status_code == 404
    auth.logout()
    auth.login(people["facilitator"].email)
    other_module = path.rsplit("/modules/", 1)[0] + f"/modules/{unrelated}/progress"
    assert auth.client.get(other_module + suffix).status_code == 404
    auth.logout()
    auth.login(people["ana"].email)
    assert auth.client.get(path + suffix).status_code == 404


# --- Budgets --------------------------------------------------------------------------


def _bulk_learners(db, cohort_id, lesson_ids, learners, first=0):
    """Learners of the cohort with progress on every lesson, inserted in bulk."""
    users = db.scalars(
        insert(User).returning(User.id),
        [
            {"email": f"g{n}@example.org", "display_name": f"Learner {n:05}", "password_hash": "x"}
            for n in range(first, first + learners)
        ],
    ).all()
    db.execute(
        insert(Membership),
        [{"cohort_id": cohort_id, "user_id": u, "role": MembershipRole.LEARNER} for u in users],
    )
    statuses = [ProgressStatus.COMPLETE, ProgressStatus.IN_PROGRESS]
    db.execute(
        insert(LessonProgress),
        [
            {
                "user_id": u,
                "lesson_id": lesson,
                "status": statuses[(u + n) % 2],
                "last_visited_at": T0 + timedelta(minutes=u + n),
            }
            for u in users
            for n, lesson in enumerate(lesson_ids)
        ],
    )
    db.commit()


def _big_cohort(db, lessons):
    (facilitator,) = make_users(db, Role.FACILITATOR)
    module = make_module(db, lessons=lessons)
    cohort = make_cohort(db, modules=[module], facilitators=[facilitator])
    lesson_ids = [lesson.id for lesson in module.lessons]
    path = f"/facilitate/cohorts/{cohort.id}/modules/{module.id}/progress"
    return facilitator, cohort.id, lesson_ids, path


@pytest.mark.parametrize("sort", ["name", "-progress", "activity"])
def test_grid_costs_the_same_queries_for_5_and_500_learners(db, auth, count_queries, sort):
    facilitator, cohort_id, lesson_ids, path = _big_cohort(db, lessons=10)
    _bulk_learners(db, cohort_id, lesson_ids, 5)
    auth.login(facilitator.email)
    # The counter reuses one list: read each count before the next block.
    with count_queries as q:
        assert auth.client.get(f"{path}?sort={sort}").status_code == 200
    small = q.count
    _bulk_learners(db, cohort_id, lesson_ids, 495, first=5)
    with count_queries as q:
        page = auth.client.get(f"{path}?sort={sort}&page=2").get_data(as_text=True)
    large = q.count
    assert page.count('<th scope="row">') == 50
    assert large == small, q.statements
    with count_queries as q:
        body = auth.client.get(f"{path}.csv?sort={sort}").get_data(as_text=True)
    assert body.count("\n") == 501
    # No page of ids (one streamed query instead), and one audit event for the export.
    assert q.count == small
    print(f"grid queries: {small} at 5 learners, {large} at 500; CSV {q.count}")


@pytest.mark.slow
def test_grid_of_2000_learners_by_40_lessons_is_fast(db, auth):
    facilitator, cohort_id, lesson_ids, path = _big_cohort(db, lessons=40)
    _bulk_learners(db, cohort_id, lesson_ids, 2000)
    auth.login(facilitator.email)
    started = time.perf_counter()
    page = auth.client.get(f"{path}?sort=-progress&page=20").get_data(as_text=True)
    page_seconds = time.perf_counter() - started
    assert page.count('<th scope="row">') == 50
    started = time.perf_counter()
    body = auth.client.get(f"{path}.csv?sort=activity").get_data(as_text=True)
    csv_seconds = time.perf_counter() - started
    assert body.count("\n") == 2001
    print(f"grid 2000x40: page {page_seconds * 1000:.0f} ms, CSV {csv_seconds * 1000:.0f} ms")
    assert page_seconds < 2
    assert csv_seconds < 10


def test_sorted_column_says_so_to_screen_readers(world, auth):
    people, path, _unrelated = world
    auth.login(people["facilitator"].email)
    page = auth.client.get(f"{path}?sort=-progress").get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    assert "sort=progress" in page  # the next click sorts the other way
