"""The catalog and a module's pages: its outline, enrolling, continuing, its certificate, its
offline zip."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from lms import offline, progress
from lms.pagination import paginate
from lms.people import throttle
from lms.web import access
from lms.web.database import get_session
from lms.web.errors import over_limit
from lms.web.learner.forms import EnrollForm
from lms.web.learner.views import bp, lesson_url, send_zip
from lms.web.paging import requested_page
from lms.web.storage import storage


@bp.get("/modules")
def catalog():
    session = get_session()
    page = paginate(session, progress.catalog(), requested_page())
    enrolled: set[int] = set()
    if current_user.is_authenticated:
        enrolled = progress.enrolled_among(session, current_user, page.items)
    return render_template("learner/catalog.html", page=page, enrolled=enrolled, form=EnrollForm())


@bp.get("/modules/<slug>")
@login_required
def module(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    outline = progress.outline(session, current_user, module)
    shared = progress.module_attachments(session, module)
    return render_template(
        "learner/module.html",
        module=module,
        enrollment=enrollment,
        outline=outline,
        attachments=shared if enrollment else [],
        form=EnrollForm(),
    )


@bp.post("/modules/<slug>/enroll")
@login_required
def enroll(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    form = EnrollForm()
    if form.validate_on_submit() and enrollment is None:
        progress.enroll(session, current_user, module)
        session.commit()
        flash(gettext("You are enrolled in %(title)s. Welcome!", title=module.title))
    return redirect(url_for("learner.resume", slug=module.slug))


@bp.get("/modules/<slug>/continue")
@login_required
def resume(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    if enrollment is None:
        return redirect(url_for("learner.module", slug=module.slug))
    entry = progress.outline(session, current_user, module).resume(enrollment.last_lesson_id)
    if entry is None:
        flash(gettext("This module has no lessons yet."))
        return redirect(url_for("learner.module", slug=module.slug))
    return redirect(lesson_url(module, entry.slug))


@bp.get("/modules/<slug>/certificate")
@login_required
def certificate(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    if enrollment is None or enrollment.completed_at is None:
        return render_template(
            "errors/error.html",
            title=gettext("No certificate yet"),
            message=gettext("The certificate is ready once you complete every lesson."),
        ), 404
    return render_template("learner/certificate.html", module=module, enrollment=enrollment)


@bp.get("/modules/<slug>/download")
@login_required
def download_module(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    if enrollment is None:
        flash(gettext("Enroll in this module to download it."))
        return redirect(url_for("learner.module", slug=module.slug))
    refused = over_limit(
        throttle.download_key(current_user.id),
        lambda minutes: ngettext(
            "You have downloaded modules many times in the last hour. Please wait "
            "%(num)d minute and try again.",
            "You have downloaded modules many times in the last hour. Please wait "
            "%(num)d minutes and try again.",
            minutes,
        ),
    )
    if refused:
        return refused
    outline = progress.outline(session, current_user, module)
    return send_zip(
        f"{module.slug}.zip",
        lambda out: offline.write_module_zip(
            session,
            current_user,
            module,
            outline,
            out,
            storage=storage(),
            render=render_template,
        ),
        prefix="lms-module-",
    )
