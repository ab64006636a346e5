"""Rendered fragments of pages, kept per process for what changes only with their key.

A lesson page repeats, for every learner and every visit, markup that changes only
when a module is imported again (the lesson's text, its outline) or with a handful of
states (which lessons are complete). Rendering it is most of the page's time, so
templates wrap such parts in a call block::

    {% call fragment("outline", module.id, module.updated_at, outline.states) %}
      ...
    {% endcall %}

The key must name everything the block shows, or something that changes whenever it
does (tests/test_fragment_keys.py reads every block and holds it to that); the language
and the app's URL prefix are added to every key. Each app in each worker process keeps
its own bounded cache: nothing is shared between processes, nothing needs invalidating
(a new import changes ``module.updated_at``), and a fresh process renders again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache
from flask import Flask, current_app, g, request
from flask_babel import get_locale
from markupsafe import Markup

# Bounded by the characters kept, not the number of fragments: a lesson's text may be
# long. About 16 MB of markup per app and worker process at most.
FRAGMENT_CHARS_KEPT = 16_000_000


class FragmentCache:
    """A bounded cache of rendered markup, least recently used out first; the lock is for
    threaded servers (gunicorn's sync workers never wait on it)."""

    def __init__(self, max_chars: int = FRAGMENT_CHARS_KEPT) -> None:
        self._kept: LRUCache[tuple[Hashable, ...], Markup] = LRUCache(
            maxsize=max_chars, getsizeof=len
        )
        self._lock = threading.Lock()

    def get_or_render(self, key: tuple[Hashable, ...], render: Callable[[], str]) -> Markup:
        with self._lock:
            html = self._kept.get(key)
        if html is None:
            html = Markup(render())  # noqa: S704  (a block of our templates, escaped as it rendered)
            with self._lock, contextlib.suppress(ValueError):  # larger than the whole cache
                self._kept[key] = html
        return html

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def chars(self) -> int:
        """The characters of markup kept."""
        return self._kept.currsize


def _request_key() -> tuple[str, str]:
    """What every fragment of this request shares in its key: language and URL prefix."""
    try:
        return g.lms_fragment_key
    except AttributeError:
        g.lms_fragment_key = (str(get_locale()), request.script_root)
        return g.lms_fragment_key


def fragment(name: str, *key: Hashable, caller: Callable[[], str]) -> Markup:
    """The block's markup for this key: rendered once, then served from the cache."""
    cache: FragmentCache = current_app.extensions["lms_fragments"]
    return cache.get_or_render((name, *_request_key(), *key), caller)


def init_app(app: Flask) -> None:
    app.extensions["lms_fragments"] = FragmentCache()
    app.jinja_env.globals["fragment"] = fragment
