"""The audit log, filtered by action, actor and dates."""

from __future__ import annotations

from flask import render_template, request

from lms import audit
from lms.pagination import page_number, paginate
from lms.web.admin.forms import AuditFilterForm
from lms.web.admin.views import bp
from lms.web.database import get_session


@bp.get("/audit")
def audit_log():
    search = AuditFilterForm(request.args)
    search.validate()
    statement = audit.events(search.event_filter())
    page = paginate(get_session(), statement, page_number(request.args.get("page")))
    return render_template("admin/audit.html", page=page, search=search)
