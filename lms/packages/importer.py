"""Import a validated package: all or nothing, and learners keep their work across versions.

The shape of an import:

1. the package's files are streamed into a staging area of the data dir, and the
   web-sized copies of its lesson images are made there, one image at a time (no
   database transaction is open yet, so a long copy blocks nobody);
2. the plan compares the package with what is installed (a new module, or a higher
   version; ``force`` for the same or a lower one);
3. the rows are changed and flushed: lessons matched by slug and prompts by key keep
   their ids, so progress and reflections stay attached; a lesson that left the
   package is archived, not deleted;
4. the staged files move into ``blobs/`` when the caller commits (``before_commit``),
   and are taken back if the transaction ends any other way.

The caller commits or rolls back, as for any other domain function. A process killed
between 4's move and the commit leaves only blobs nobody refers to, journalled in
the staging area; the next import removes them (``Storage.recover_abandoned``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, selectinload

from lms import audit, html
from lms.db import now_utc
from lms.models import (
    Attachment,
    Enrollment,
    Lesson,
    Media,
    MediaVariant,
    Module,
    ModuleVersion,
    Prompt,
    Sequence,
    User,
)
from lms.packages import images
from lms.packages.loader import read_package
from lms.packages.problems import N_, Problem
from lms.packages.reading.media import resolve_reference
from lms.packages.semver import Version
from lms.packages.source import MANIFEST, Limits, PackageSource, open_package
from lms.packages.spec import LessonSpec, Package, PackageFile
from lms.packages.yaml_reader import parse
from lms.storage import Staging, Storage, referenced_blobs

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# The Module columns a package sets besides slug and version (not module.yaml's required
# keys, which happen to share these names: a column may one day come from an optional key).
MODULE_FIELDS = (
    "title",
    "summary",
    "language",
    "license",
    "authors",
    "estimated_minutes",
    "sequence",
)


class VersionRefusedError(Exception):
    """The installed version is the same or newer; ``problem`` says what to do."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass
class Plan:
    """What importing a package would change, for a preview and for the record."""

    slug: str
    title: str
    version: str
    installed: str | None = None
    refusal: Problem | None = None
    module_changes: list[str] = field(default_factory=list)
    lessons_added: list[dict[str, Any]] = field(default_factory=list)
    lessons_changed: list[dict[str, Any]] = field(default_factory=list)
    lessons_archived: list[dict[str, Any]] = field(default_factory=list)
    lessons_restored: list[dict[str, Any]] = field(default_factory=list)
    prompts_added: list[dict[str, Any]] = field(default_factory=list)
    prompts_changed: list[dict[str, Any]] = field(default_factory=list)
    prompts_archived: list[dict[str, Any]] = field(default_factory=list)
    attachments_added: list[str] = field(default_factory=list)
    attachments_changed: list[str] = field(default_factory=list)
    attachments_archived: list[str] = field(default_factory=list)
    media_added: list[str] = field(default_factory=list)
    media_changed: list[str] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.installed is None

    @property
    def has_changes(self) -> bool:
        """True when importing would change any content."""
        return any(
            getattr(self, name)
            for name in self.__dataclass_fields__
            if name.startswith(("module_", "lessons_", "prompts_", "attachments_", "media_"))
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record (ModuleVersion.changes)."""
        data = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("refusal", "slug", "title", "version")
        }
        data["refusal"] = self.refusal.to_dict() if self.refusal else None
        return data


@dataclass(frozen=True)
class ImportResult:
    module: Module
    plan: Plan


def _load_module(session: Session, slug: str) -> Module | None:
    return session.scalar(
        select(Module)
        .where(Module.slug == slug)
        .options(
            selectinload(Module.lessons).selectinload(Lesson.prompts),
            selectinload(Module.attachments),
        )
    )


def _module_values(package: Package) -> dict[str, Any]:
    return {
        "title": package.title,
        "summary": package.summary,
        "language": package.language,
        "license": package.license,
        "authors": list(package.authors),
        "estimated_minutes": package.estimated_minutes,
        "sequence": Sequence(package.sequence),
    }


def _refusal(package: Package, installed: str) -> Problem | None:
    new, old = Version.parse(package.version), Version.parse(installed)
    if new is None or old is None or new > old:
        return None
    if new == old:
        message = N_(
            "%(slug)s %(version)s is installed already. To bring in a new version, raise "
            '"version" in module.yaml; to import this one again, force the import.'
        )
    else:
        message = N_(
            "%(slug)s %(version)s is older than the installed %(installed)s. Raise "
            '"version" in module.yaml above it, or force the import to go back.'
        )
    return Problem(
        MANIFEST,
        None,
        message,
        {"slug": package.slug, "version": package.version, "installed": installed},
    )


def plan_import(session: Session, package: Package) -> Plan:
    """Compare the package with what is installed: what would be added, changed, archived."""
    plan = Plan(package.slug, package.title, package.version)
    module = _load_module(session, package.slug)
    if module is None:
        for spec in package.lessons:
            _plan_lesson_added(plan, spec)
        plan.attachments_added = [a.path for a, _, _ in package.all_attachments]
        plan.media_added = [m.path for m in package.media]
        return plan

    plan.installed = module.version
    plan.refusal = _refusal(package, module.version)
    values = _module_values(package)
    plan.module_changes = [k for k in MODULE_FIELDS if getattr(module, k) != values[k]]
    _plan_lessons(plan, module, package)
    _plan_attachments(plan, module, package)
    _plan_media(plan, _media_by_path(session, module), package)
    return plan


def _plan_lesson_added(plan: Plan, spec: LessonSpec) -> None:
    plan.lessons_added.append({"slug": spec.slug, "title": spec.title})
    plan.prompts_added.extend(
        {"lesson": spec.slug, "key": p.key, "text": p.text} for p in spec.prompts
    )


def _plan_lessons(plan: Plan, module: Module, package: Package) -> None:
    """Lessons added, restored, changed (and their prompts), and archived."""
    existing = {lesson.slug: lesson for lesson in module.lessons}
    attachments = {a.path: a for a in module.attachments}
    for position, spec in enumerate(package.lessons, start=1):
        lesson = existing.get(spec.slug)
        if lesson is None:
            _plan_lesson_added(plan, spec)
            continue
        if lesson.archived_at is not None:
            plan.lessons_restored.append({"slug": spec.slug, "title": spec.title})
        changes = _changed(
            ("title", lesson.title, spec.title),
            ("minutes", lesson.minutes, spec.minutes),
            ("text", lesson.body_markdown, spec.body_markdown),
            ("position", lesson.position, position),
        )
        if _prompts_diff(plan, lesson, spec):
            changes.append("prompts")
        if _lesson_attachments_differ(module, attachments, lesson, spec):
            changes.append("attachments")
        if changes:
            plan.lessons_changed.append(
                {"slug": spec.slug, "title": spec.title, "changes": changes}
            )

    slugs = {spec.slug for spec in package.lessons}
    plan.lessons_archived = [
        {"slug": lesson.slug, "title": lesson.title}
        for lesson in module.lessons
        if lesson.slug not in slugs and lesson.archived_at is None
    ]


def _changed(*fields: tuple[str, Any, Any]) -> list[str]:
    """The names of the (name, old, new) fields whose value changes."""
    return [name for name, old, new in fields if old != new]


def _lesson_attachments_differ(
    module: Module, attachments: dict[str, Attachment], lesson: Lesson, spec: LessonSpec
) -> bool:
    """Whether the lesson's attachments, their titles or their files change."""
    wanted = {(a.path, a.title) for a in spec.attachments}
    current = {
        (a.path, a.title)
        for a in module.attachments
        if a.lesson_id == lesson.id and a.archived_at is None
    }
    changed_files = any(
        attachments[a.path].sha256 != a.file.sha256
        for a in spec.attachments
        if a.path in attachments
    )
    return wanted != current or changed_files


def _prompts_diff(plan: Plan, lesson: Lesson, spec: LessonSpec) -> bool:
    """Plan the lesson's prompts added, changed and archived; whether there is any."""
    existing = {p.key: p for p in lesson.prompts}
    changed = False
    for position, prompt_spec in enumerate(spec.prompts, start=1):
        prompt = existing.get(prompt_spec.key)
        if prompt is None or prompt.archived_at is not None:
            plan.prompts_added.append(
                {"lesson": spec.slug, "key": prompt_spec.key, "text": prompt_spec.text}
            )
            changed = True
            continue
        changes = _changed(
            ("text", prompt.text, prompt_spec.text),
            ("required", prompt.required, prompt_spec.required),
            ("accepts_files", prompt.accepts_files, prompt_spec.accepts_files),
            ("position", prompt.position, position),
        )
        if changes:
            plan.prompts_changed.append(
                {
                    "lesson": spec.slug,
                    "key": prompt_spec.key,
                    "text": prompt_spec.text,
                    "old_text": prompt.text,
                    "changes": changes,
                }
            )
            changed = True
    keys = {p.key for p in spec.prompts}
    for prompt in lesson.prompts:
        if prompt.key not in keys and prompt.archived_at is None:
            plan.prompts_archived.append(
                {"lesson": spec.slug, "key": prompt.key, "text": prompt.text}
            )
            changed = True
    return changed


def _plan_attachments(plan: Plan, module: Module, package: Package) -> None:
    """Attachments added, changed (file, title, lesson, or back from the archive), archived."""
    attachments = {a.path: a for a in module.attachments}
    lessons_by_id = {lesson.id: lesson.slug for lesson in module.lessons}
    paths = set()
    for spec, lesson_spec, _ in package.all_attachments:
        paths.add(spec.path)
        row = attachments.get(spec.path)
        if row is None:
            plan.attachments_added.append(spec.path)
        elif (
            row.sha256 != spec.file.sha256
            or row.title != spec.title
            or row.archived_at is not None
            or lessons_by_id.get(row.lesson_id) != (lesson_spec.slug if lesson_spec else None)
        ):
            plan.attachments_changed.append(spec.path)
    plan.attachments_archived = sorted(
        a.path for a in module.attachments if a.path not in paths and a.archived_at is None
    )


def _plan_media(plan: Plan, media: dict[str, Media], package: Package) -> None:
    for spec in package.media:
        row = media.get(spec.path)
        if row is None:
            plan.media_added.append(spec.path)
        elif row.sha256 != spec.sha256:
            plan.media_changed.append(spec.path)


def _media_by_path(session: Session, module: Module) -> dict[str, Media]:
    return {
        m.path: m
        for m in session.scalars(
            select(Media).where(Media.module_id == module.id).options(selectinload(Media.variants))
        )
    }


def recover_abandoned_imports(session: Session, storage: Storage) -> int:
    """Take back what imports killed half way left in the data dir; returns how many."""
    return storage.recover_abandoned(lambda shas: referenced_blobs(session, shas))


class _Tally:
    """Bytes done of the import's work before its transaction (files copied, images made
    smaller), for a progress bar."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


class _Counting:
    """A stream wrapper that reports each chunk read, for progress bars."""

    def __init__(self, stream, report: Callable[[int], None]) -> None:
        self.stream = stream
        self.report = report

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.report(len(data))
        return data


@dataclass(frozen=True)
class StagedVariant:
    """A web-sized copy of a lesson image, in the staging area until the import commits."""

    width: int
    height: int
    content_type: str
    size: int
    sha256: str


def _files_to_copy(package: Package, staging: Staging, storage: Storage) -> list[PackageFile]:
    return [
        f
        for f in package.files
        if f.sha256 not in staging.staged and not storage.has_blob(f.sha256)
    ]


def _stage(
    source: PackageSource,
    files: list[PackageFile],
    staging: Staging,
    tally: _Tally | None,
) -> None:
    for spec in files:
        if spec.sha256 in staging.staged:
            continue
        with source.open(spec.path) as stream:
            counted = _Counting(stream, tally.add) if tally is not None else stream
            sha256, _size = staging.add(counted)
        if sha256 != spec.sha256:
            raise InvalidPackageChangedError(spec.path)


def _to_resize(package: Package) -> list[PackageFile]:
    return [m for m in package.media if m.image is not None and m.image.variant_widths]


def _stage_variants(
    pictures: list[PackageFile], staging: Staging, storage: Storage, tally: _Tally
) -> dict[str, tuple[StagedVariant, ...]]:
    """Make each lesson image's web-sized copies into the staging area, one at a time.

    Each is made from the original as validated (its staged copy, or its blob when it
    is stored already). An image that cannot be made smaller after all is imported as
    it is: the page shows it at full size, as it showed every image before.
    """
    made: dict[str, tuple[StagedVariant, ...]] = {}
    for picture in pictures:
        if picture.image is None:
            continue
        original = staging.staged.get(picture.sha256) or storage.blob_path(picture.sha256)
        try:
            with open(original, "rb") as stream:
                variants = images.make_variants(
                    stream, picture.type_name, picture.size, picture.image
                )
        except (images.ImageError, FileNotFoundError) as error:
            log.warning("%s is imported without smaller copies: %s", picture.path, error)
            variants = []
        staged = []
        for variant in variants:
            sha256, size = staging.add(io.BytesIO(variant.data))
            staged.append(
                StagedVariant(variant.width, variant.height, variant.content_type, size, sha256)
            )
        made[picture.path] = tuple(staged)
        tally.add(picture.size)
    return made


class InvalidPackageChangedError(Exception):
    """A file changed between validation and import (a folder edited meanwhile)."""

    def __init__(self, path: str) -> None:
        self.problem = Problem(
            path, None, N_("this file changed while it was being imported; import again.")
        )
        super().__init__(str(self.problem))


def _publish_on_commit(session: Session, storage: Storage, staging: Staging) -> None:
    """Move the staged blobs in when the session commits; take them back otherwise."""
    root = session.get_transaction()
    state: dict[str, Any] = {"lock": None, "committed": False, "done": False}

    def before_commit(_session: Session) -> None:
        if state["done"] or state["lock"] is not None:
            return
        lock = storage.placement_lock()
        lock.__enter__()
        state["lock"] = lock
        staging.publish()

    def after_commit(_session: Session) -> None:
        if not state["done"]:
            state["committed"] = True

    def after_transaction_end(_session: Session, transaction) -> None:
        if state["done"] or transaction is not root:
            return
        state["done"] = True
        try:
            if not state["committed"]:
                staging.unpublish()
        finally:
            staging.close()
            if state["lock"] is not None:
                state["lock"].__exit__(None, None, None)

    event.listen(session, "before_commit", before_commit)
    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)


def import_package(
    session: Session,
    storage: Storage,
    source: PackageSource,
    package: Package,
    *,
    actor: User | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a validated package; flushes, and its files move in when the caller commits.

    Raises VersionRefusedError when the installed version is the same or newer and
    ``force`` is false. Whatever goes wrong, nothing is left behind once the caller
    rolls back.
    """
    staging = storage.new_staging()
    try:
        files, pictures = _files_to_copy(package, staging, storage), _to_resize(package)
        tally = _Tally(progress, sum(f.size for f in [*files, *pictures]))
        _stage(source, files, staging, tally)
        variants = _stage_variants(pictures, staging, storage, tally)
        tally.finish()
        # The plan's query opens the transaction; on SQLite that takes the write lock, which
        # must come before the placement lock, in the same order as at commit.
        plan = plan_import(session, package)
        if plan.refusal is not None and not force:
            raise VersionRefusedError(plan.refusal)
        needed = {f.sha256 for f in package.files}
        needed |= {v.sha256 for made in variants.values() for v in made}
        storage.recover_abandoned(lambda shas: referenced_blobs(session, shas), keep=needed)
        # A blob that was there when staging began may have been a dead import's, now gone.
        # (Every copy of an image was staged, whether or not it was stored already.)
        _stage(source, _files_to_copy(package, staging, storage), staging, None)
        staging.required = needed
        module = _apply(session, package, plan, actor, variants)
        session.flush()
        _publish_on_commit(session, storage, staging)
    except BaseException:
        staging.close()
        raise
    return ImportResult(module, plan)


def _apply(
    session: Session,
    package: Package,
    plan: Plan,
    actor: User | None,
    variants: dict[str, tuple[StagedVariant, ...]],
) -> Module:
    """Write the package into the rows, step by step, and record the import; flushes."""
    now = now_utc()
    module = _apply_module(session, package, now)
    # Media first: lessons are rendered with their URLs and their images' sizes.
    urls, lesson_images = _apply_media(session, module, package, variants)
    lessons = _apply_lessons(session, module, package, urls, lesson_images, now)
    _apply_attachments(session, module, package, lessons, now)
    _record_import(session, module, package, plan, actor, now)
    return module


def _apply_module(session: Session, package: Package, now: datetime) -> Module:
    """The package's module, added or given the package's values."""
    module = _load_module(session, package.slug)
    if module is None:
        module = Module(slug=package.slug, version=package.version, **_module_values(package))
        session.add(module)
        session.flush()
    else:
        for name, value in _module_values(package).items():
            setattr(module, name, value)
    module.version = package.version
    module.updated_at = now
    module.lesson_count = len(package.lessons)
    return module


def _apply_media(
    session: Session,
    module: Module,
    package: Package,
    variants: dict[str, tuple[StagedVariant, ...]],
) -> tuple[dict[str, str], dict[str, html.LessonImage]]:
    """Add or update the media rows and their images' copies.

    Returns the URL of each media path, and what a lesson's page says of each image, by
    its URL (lms.html.render_lesson).
    """
    media = _media_by_path(session, module)
    urls, lesson_images = {}, {}
    for spec in package.media:
        row = media.get(spec.path)
        if row is None:
            row = Media(module_id=module.id, path=spec.path)
            session.add(row)
        row.content_type, row.size, row.sha256 = spec.content_type, spec.size, spec.sha256
        row.width = spec.image.width if spec.image else None
        row.height = spec.image.height if spec.image else None
        _apply_variants(row, variants.get(spec.path, ()))
        path_in_media = spec.path[len("media/") :]
        url = urls[spec.path] = html.media_url(module.slug, path_in_media, spec.sha256)
        if row.width is not None and row.height is not None:
            sizes = [
                (html.media_url(module.slug, path_in_media, v.sha256, v.width), v.width)
                for v in row.variants
            ]
            if sizes:
                sizes.append((url, row.width))
            lesson_images[url] = html.LessonImage(row.width, row.height, tuple(sizes))
    return urls, lesson_images


def _apply_variants(row: Media, staged: tuple[StagedVariant, ...]) -> None:
    """Give the media row exactly these copies, keeping the rows of widths it had."""
    by_width = {v.width: v for v in row.variants}
    for variant in staged:
        kept = by_width.pop(variant.width, None)
        if kept is None:
            kept = MediaVariant(width=variant.width)
            row.variants.append(kept)
        kept.height, kept.content_type = variant.height, variant.content_type
        kept.size, kept.sha256 = variant.size, variant.sha256
    for gone in by_width.values():
        row.variants.remove(gone)
    row.variants.sort(key=lambda v: v.width)


def _apply_lessons(
    session: Session,
    module: Module,
    package: Package,
    urls: dict[str, str],
    lesson_images: dict[str, html.LessonImage],
    now: datetime,
) -> dict[str, Lesson]:
    """Add or update each lesson and its prompts, archive those that left; by slug."""
    existing = {lesson.slug: lesson for lesson in module.lessons}
    lessons: dict[str, Lesson] = {}
    for position, spec in enumerate(package.lessons, start=1):
        lesson = existing.get(spec.slug)
        if lesson is None:
            lesson = Lesson(module=module, slug=spec.slug, position=position, title=spec.title)
            session.add(lesson)
        _update_lesson(lesson, spec, position, urls, lesson_images)
        _apply_prompts(session, lesson, spec, now)
        lessons[spec.slug] = lesson
    archived = [
        lesson
        for slug, lesson in existing.items()
        if slug not in lessons and lesson.archived_at is None
    ]
    for lesson in archived:
        lesson.archived_at = now
    session.flush()
    _continue_where_they_were(session, archived, list(lessons.values()))
    return lessons


def _update_lesson(
    lesson: Lesson,
    spec: LessonSpec,
    position: int,
    urls: dict[str, str],
    lesson_images: dict[str, html.LessonImage],
) -> None:
    lesson.position = position
    lesson.title = spec.title
    lesson.minutes = spec.minutes
    lesson.body_markdown = spec.body_markdown
    lesson.body_html = html.render_lesson(
        spec.body_markdown,
        lambda url: urls.get(resolve_reference(spec.path, url) or ""),
        lesson_images,
    )
    lesson.archived_at = None


def _apply_attachments(
    session: Session, module: Module, package: Package, lessons: dict[str, Lesson], now: datetime
) -> None:
    """Add or update each attachment, with its lesson; archive those that left."""
    rows = {a.path: a for a in module.attachments}
    kept = set()
    for spec, lesson_spec, position in package.all_attachments:
        row = rows.get(spec.path)
        if row is None:
            row = Attachment(module=module, path=spec.path)
            session.add(row)
        row.lesson_id = lessons[lesson_spec.slug].id if lesson_spec else None
        row.title = spec.title
        row.filename = spec.filename
        row.content_type = spec.file.content_type
        row.size = spec.file.size
        row.sha256 = spec.file.sha256
        row.position = position
        row.archived_at = None
        kept.add(spec.path)
    for path, row in rows.items():
        if path not in kept and row.archived_at is None:
            row.archived_at = now


def _record_import(
    session: Session,
    module: Module,
    package: Package,
    plan: Plan,
    actor: User | None,
    now: datetime,
) -> None:
    """The version's record (what it held, what it changed) and the audit event."""
    record = session.scalar(
        select(ModuleVersion).where(
            ModuleVersion.module_id == module.id, ModuleVersion.version == package.version
        )
    )
    if record is None:
        record = ModuleVersion(module_id=module.id, version=package.version)
        session.add(record)
    record.manifest = {
        "module": package.manifest,
        "lessons": [{"path": s.path, "slug": s.slug} for s in package.lessons],
        "media": [m.path for m in package.media],
    }
    record.package_sha256 = package.sha256
    record.changes = plan.to_dict()
    record.imported_at = now
    record.imported_by_id = actor.id if actor is not None else None
    session.flush()
    audit.record(
        session,
        actor,
        "module.imported",
        module,
        slug=module.slug,
        version=package.version,
        previous=plan.installed,
        lessons_added=len(plan.lessons_added),
        lessons_changed=len(plan.lessons_changed),
        lessons_archived=len(plan.lessons_archived),
    )


def _apply_prompts(session: Session, lesson: Lesson, spec: LessonSpec, now: datetime) -> None:
    existing = {p.key: p for p in lesson.prompts}
    for position, prompt_spec in enumerate(spec.prompts, start=1):
        prompt = existing.get(prompt_spec.key)
        if prompt is None:
            prompt = Prompt(lesson=lesson, key=prompt_spec.key, position=position, text="")
            session.add(prompt)
        prompt.position = position
        prompt.text = prompt_spec.text
        prompt.required = prompt_spec.required
        prompt.accepts_files = prompt_spec.accepts_files
        prompt.archived_at = None
    keys = {p.key for p in spec.prompts}
    for prompt in existing.values():
        if prompt.key not in keys and prompt.archived_at is None:
            prompt.archived_at = now


def _continue_where_they_were(
    session: Session, archived: list[Lesson], current: list[Lesson]
) -> None:
    """Learners whose last lesson was archived continue at the lesson now in its place."""
    if not archived or not current:
        return
    ordered = sorted(current, key=lambda lesson: lesson.position)
    for lesson in archived:
        target = next((c for c in ordered if c.position >= lesson.position), ordered[-1])
        session.execute(
            update(Enrollment)
            .where(Enrollment.last_lesson_id == lesson.id)
            .values(last_lesson_id=target.id)
        )


# --- Conveniences for the command line and the admin pages --------------------


def validate_path(path: Path, limits: Limits | None = None) -> Package:
    """Open and validate a folder or zip; raises InvalidPackageError with every problem."""
    with open_package(path, limits) as source:
        return read_package(source, limits)


def import_path(
    session: Session,
    storage: Storage,
    path: Path,
    limits: Limits | None = None,
    **options: Any,
) -> ImportResult:
    """Validate and import a folder or zip (see import_package for the options)."""
    with open_package(path, limits) as source:
        package = read_package(source, limits)
        return import_package(session, storage, source, package, **options)


def bundled_packages(session: Session, modules_dir: Path) -> list[Path]:
    """The folders of modules_dir whose module is not installed at that version or newer.

    Read from each module.yaml's slug and version alone, so that a second start costs
    a glance at a few small files, and imports nothing.
    """
    if not modules_dir.is_dir():
        return []
    installed = {
        slug: version for slug, version in session.execute(select(Module.slug, Module.version))
    }
    wanted = []
    for folder in sorted(p for p in modules_dir.iterdir() if (p / MANIFEST).is_file()):
        data, problem = parse(
            (folder / MANIFEST).read_text(encoding="utf-8", errors="replace"), MANIFEST
        )
        if problem is not None or not isinstance(data, dict):
            wanted.append(folder)  # the import reports what is wrong with it
            continue
        slug, version = str(data.get("slug", "")), str(data.get("version", ""))
        new, old = Version.parse(version), Version.parse(installed.get(slug, ""))
        if slug not in installed or new is None or old is None or new > old:
            wanted.append(folder)
    return wanted
