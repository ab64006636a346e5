"""The progress grid of a cohort on one of its modules, as a page or a CSV download."""

from __future__ import annotations

from functools import lru_cache

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from lms import audit, grid
from lms.models import Cohort, Module
from lms.web.access import load_staff_cohort, module_of_cohort
from lms.web.database import get_session, writing
from lms.web.facilitator.views import bp
from lms.web.paging import requested_page
from lms.web.template_filters import local_time


def _grid_of(cohort_id: int, module_id: int) -> tuple[Session, Cohort, Module, str]:
    """The staff's cohort and its module (else 404), and the sort asked for (by name else)."""
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    module = module_of_cohort(session, cohort, module_id)
    sort = request.args.get("sort", "name")
    return session, cohort, module, sort if sort in grid.SORTS else "name"


@bp.get("/cohorts/<int:cohort_id>/modules/<int:module_id>/progress")
def progress(cohort_id: int, module_id: int):
    session, cohort, module, sort = _grid_of(cohort_id, module_id)
    page = grid.page(session, cohort.id, module.id, sort, requested_page())
    return render_template(
        "facilitator/grid.html",
        cohort=cohort,
        module=module,
        page=page,
        sort=sort,
        grid_row=grid_row,
    )


@lru_cache(maxsize=4096)
def row_cells(pattern: str, complete: Markup, started: Markup, missing: Markup) -> Markup:
    """A learner's cells as one fragment, from the three cells rendered by the template.

    Learners who went as far through a module share a row (on a linear module there are
    about as many rows as lessons), so a page of 50 learners × 40 lessons is mostly
    cache hits instead of 2,000 template steps. The key is the row's pattern string
    (lms.grid.GridRow.pattern): hashing a tuple of 40 enum members costs more than
    building it.
    """
    html = {"c": complete, "p": started}
    return Markup("").join(html.get(cell, missing) for cell in pattern)


def grid_row(row: grid.GridRow, complete: Markup, started: Markup, missing: Markup) -> Markup:
    """A learner's row of the grid page: name, percent, last activity and cells.

    Written here rather than in the template: a template row costs about as much as
    the rest of the page's work for that learner.
    """
    at = row.last_activity_at
    when = (
        f'<time datetime="{at.isoformat()}">{escape(local_time(at, "date"))}</time>' if at else "–"
    )
    cells = row_cells(row.pattern, complete, started, missing)
    return Markup(  # noqa: S704  (the name is escaped; the rest is ours)
        f'<tr>\n        <th scope="row">{escape(row.name)}</th>\n        <td>{row.percent}%</td>'
        f"\n        <td>{when}</td>\n        {cells}\n      </tr>"
    )


@bp.get("/cohorts/<int:cohort_id>/modules/<int:module_id>/progress.csv")
def progress_csv(cohort_id: int, module_id: int):
    session, cohort, module, sort = _grid_of(cohort_id, module_id)
    # The progress of other people leaves the site: say so in the audit log first.
    with writing(session):
        audit.record(session, current_user, "progress.exported", cohort, module_id=module.id)

    def lines():
        # The query runs as the download starts, inside the streamed request's context.
        # The app context's teardown closed the session when the view returned, so the
        # connection the query takes again is given back here, or it leaks until GC.
        try:
            lessons, rows = grid.all_rows(session, cohort.id, module.id, sort)
            yield from grid.csv_lines(lessons, rows)
        finally:
            session.close()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="progress-{cohort.id}-{module.slug}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
