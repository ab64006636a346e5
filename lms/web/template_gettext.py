"""The translation functions of templates: Jinja's "newstyle" gettext, one call deep.

Jinja's i18n extension wraps the functions it is given twice (``_`` resolves
``gettext``, which calls the function through the template context), and Flask-Babel
looks the request's translations up again for every string: about 17 µs a string,
and a page has dozens. These do the same in one call, with the same rules: the
result is markup when the template autoescapes, and is always %-formatted with the
keyword arguments (escaped), so ``{% trans %}`` blocks and ``_()`` behave as before.
The parameters are positional-only: a string may use any name for its variables.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup


def _translations():
    """This request's translations, looked up once and kept in g."""
    try:
        return g.lms_translations
    except AttributeError:
        g.lms_translations = get_translations()
        return g.lms_translations


def _finish(eval_ctx: EvalContext, text: str, variables: dict[str, Any]) -> str:
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704  (our catalogue's text, as Jinja's newstyle gettext does)
    return text % variables


@pass_eval_context
def gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    return _finish(eval_ctx, _translations().ugettext(string), variables)


@pass_eval_context
def ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    variables.setdefault("num", num)
    return _finish(eval_ctx, _translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def pgettext(eval_ctx: EvalContext, context: str, string: str, /, **variables: Any) -> str:
    variables.setdefault("context", context)
    return _finish(eval_ctx, _translations().upgettext(context, string), variables)


@pass_eval_context
def npgettext(
    eval_ctx: EvalContext,
    context: str,
    singular: str,
    plural: str,
    num: int,
    /,
    **variables: Any,
) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = _translations().unpgettext(context, singular, plural, num)
    return _finish(eval_ctx, text, variables)


def init_app(app: Flask) -> None:
    """Install the functions in the app's templates (after Flask-Babel's own)."""
    env = app.jinja_env
    env.newstyle_gettext = True  # {% trans %} passes its variables as keyword arguments
    env.globals.update(
        _=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext
    )
