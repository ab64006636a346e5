"""The audit log, filtered by action, actor and dates."""

from __future__ import annotations

from flask import render_template, request

from lms import audit
from lms.pagination import paginate
from lms.web.admin.forms import AuditFilterForm
from lms.web.admin.views import bp
from lms.web.database import get_session
from lms.web.paging import requested_page


@bp.get("/audit")
def audit_log():
    search = AuditFilterForm(request.args)
    search.validate()
    statement = audit.events(search.event_filter())
    page = paginate(get_session(), statement, requested_page())
    return render_template("admin/audit.html", page=page, search=search)
