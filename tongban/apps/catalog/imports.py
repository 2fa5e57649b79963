"""Excel imports of the catalogue: a job is checked whole, then applied in one transaction.

``import_job_create`` checks the importer's permissions, keeps the file and queues the
job; the worker runs ``import_job_run``: it parses the workbook (every problem of every
row is reported; if there is any, nothing is written), then creates or updates every item
and power in a single transaction, as the importer, so the audit trail names them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.catalog import permissions, services, spreadsheet
from tongban.apps.catalog.models import (
    OPEN_STATES,
    ImportJob,
    ImportState,
    ItemVersion,
    Material,
    PowerItem,
    ProcessStep,
    ServiceItem,
    VersionBasis,
)
from tongban.platform.access.services import ScopePaths, can_access, has_permission, require
from tongban.platform.audit import context as audit_context
from tongban.platform.audit.chain import CHAINED_COLUMNS, canonical_detail, entry_hash
from tongban.platform.audit.models import GENESIS_HASH, AuditEntry, AuditHead, Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.files import detection
from tongban.platform.files.services import file_store
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 500
PROGRESS_EVERY = 100
PROGRESS_TTL_SECONDS = 24 * 3600
FINISHED_STATES = (ImportState.DONE, ImportState.REJECTED, ImportState.FAILED)
_DEPARTMENT_SELF = ScopePaths(department="", division="division")


def progress_key(job_id: int) -> str:
    return f"catalog.import.{job_id}.progress"


def import_job_create(*, actor: User, upload: File[Any], publish: bool) -> ImportJob:
    """Keep the uploaded workbook and queue its import.

    Raises ``PermissionDenied`` (nothing kept) and ``FileRejected`` (not an .xlsx file).
    """
    require(actor, permissions.IMPORT)
    if publish:
        require(actor, permissions.ITEM_REVIEW)
    stored = file_store(actor=actor, upload=upload, allowed_types={detection.XLSX})
    with transaction.atomic():
        job = ImportJob.objects.create(file=stored, publish=publish, created_by=actor)
        audit_record(
            action="catalog.import.create",
            actor=actor,
            target=job,
            detail={"file": stored.original_name, "sm3": stored.sm3, "publish": publish},
        )
        job_id = job.pk
        transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _enqueue(job_id: int) -> None:
    from tongban.apps.catalog.tasks import import_run

    import_run.enqueue(job_id)


def import_job_progress(job: ImportJob) -> tuple[str, int, int, int]:
    """(phase label, rows done, rows in all, percent) for the progress bar."""
    job.refresh_from_db(fields=["state", "total_rows", "processed_rows"])
    phase = str(ImportState(job.state).label)
    if job.state == ImportState.IMPORTING:
        data = cache.get(progress_key(job.pk)) or {}
        done, total = int(data.get("done", 0)), int(data.get("total", 0))
    elif job.state == ImportState.DONE:
        done = total = job.total_rows
        return phase, done, total, 100
    else:
        done, total = job.processed_rows, job.total_rows
    percent = min(100, done * 100 // total) if total else 0
    return phase, done, total, percent


def _permission_errors(
    actor: User, parsed: spreadsheet.ParsedWorkbook, *, publish: bool
) -> list[spreadsheet.RowError]:
    """What the importer may not do, found before anything is written."""
    errors: list[spreadsheet.RowError] = []
    codes = {item.department_code for item in parsed.items}
    allowed: dict[str, bool] = {}
    for department in Department.objects.filter(code__in=codes):
        allowed[department.code] = can_access(
            actor, department, permissions.ITEM_EDIT, _DEPARTMENT_SELF
        )
    for item in parsed.items:
        if not allowed.get(item.department_code, False):
            errors.append(
                spreadsheet.row_error(
                    spreadsheet.SHEET_ITEMS,
                    item.row,
                    "部门编码",
                    _("您没有编辑部门“%s”事项的权限") % item.department_code,
                )
            )
    if parsed.powers and not has_permission(actor, permissions.POWER_MANAGE):
        errors.append(
            spreadsheet.row_error(
                spreadsheet.SHEET_POWERS, 0, "", _("您没有维护权责清单的权限，不能导入权力事项")
            )
        )
    if publish and not has_permission(actor, permissions.ITEM_REVIEW):
        errors.append(spreadsheet.row_error("", 0, "", _("您没有审核发布事项的权限")))
    return errors


def _read(job: ImportJob) -> bytes:
    with default_storage.open(job.file.storage_name, "rb") as handle:
        return bytes(handle.read())


def import_job_run(*, job_id: int) -> ImportJob:
    """Check, then apply, one queued import. Safe to call twice (a finished job is left)."""
    started = time.monotonic()
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportState.PENDING).update(
        state=ImportState.VALIDATING
    )
    job = ImportJob.objects.select_related("file", "created_by").get(pk=job_id)
    if not claimed:
        return job
    actor = job.created_by
    try:
        data = _read(job)

        def progress(done: int, total: int) -> None:
            ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

        parsed = spreadsheet.parse_workbook(data, progress, publish=job.publish)
        errors = list(parsed.errors)
        if not errors:
            errors = _permission_errors(actor, parsed, publish=job.publish)
        job.total_rows = parsed.total_rows
        job.processed_rows = parsed.total_rows
        if errors:
            return _reject(job, errors, started)
        if not parsed.items and not parsed.powers:
            return _reject(
                job,
                [spreadsheet.row_error("", 0, "", _("文件中没有可导入的事项或权力事项"))],
                started,
            )
        job.state = ImportState.IMPORTING
        job.save(update_fields=["state", "total_rows", "processed_rows"])
        validated = time.monotonic()
        summary = _apply(job, parsed, actor, started)
        summary["validate_seconds"] = round(validated - started, 2)
    except Exception as error:
        logger.exception("catalogue import %s failed", job_id)
        return _fail(job, error, started)
    finally:
        cache.delete(progress_key(job_id))
    job.state = ImportState.DONE
    job.summary = summary
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "summary", "finished_at"])
    return job


def _reject(job: ImportJob, errors: list[spreadsheet.RowError], started: float) -> ImportJob:
    with transaction.atomic():
        job.state = ImportState.REJECTED
        job.errors = [error.as_dict() for error in errors[:MAX_STORED_ERRORS]]
        job.summary = {
            "error_count": len(errors),
            "seconds": round(time.monotonic() - started, 2),
        }
        job.finished_at = timezone.now()
        job.save(
            update_fields=[
                "state",
                "errors",
                "summary",
                "total_rows",
                "processed_rows",
                "finished_at",
            ]
        )
        audit_record(
            action="catalog.import.reject",
            actor=job.created_by,
            target=job,
            detail={"error_count": len(errors)},
        )
    return job


def _fail(job: ImportJob, error: Exception, started: float) -> ImportJob:
    if isinstance(error, ValidationError):
        reason = "；".join(str(message) for message in error.messages)
    else:
        reason = _("导入时发生意外错误，已全部撤销：%s") % (str(error) or type(error).__name__)
    with transaction.atomic():
        job.state = ImportState.FAILED
        job.errors = [{"sheet": "", "row": 0, "column": "", "message": reason}]
        job.summary = {"error_count": 1, "seconds": round(time.monotonic() - started, 2)}
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "errors", "summary", "finished_at"])
        audit_record(
            action="catalog.import.fail",
            actor=job.created_by,
            target=job,
            detail={"error": reason[:500]},
        )
    return job


class _Progress:
    def __init__(self, job_id: int, total: int) -> None:
        self.key = progress_key(job_id)
        self.total = total
        self.done = 0
        cache.set(self.key, {"done": 0, "total": total}, PROGRESS_TTL_SECONDS)

    def step(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0 or self.done == self.total:
            cache.set(self.key, {"done": self.done, "total": self.total}, PROGRESS_TTL_SECONDS)


def _apply(
    job: ImportJob, parsed: spreadsheet.ParsedWorkbook, actor: User, started: float
) -> dict[str, Any]:
    counts = {"created": 0, "updated": 0, "published": 0, "powers": 0}
    progress = _Progress(job.pk, len(parsed.items) + len(parsed.powers))
    items = _parents_first(parsed.items)
    departments = {
        department.code: department
        for department in Department.objects.filter(
            code__in={item.department_code for item in items}
        ).select_related("division")
    }
    existing = {
        item.implementation_code: item
        for item in ServiceItem.objects.filter(
            implementation_code__in=[item.implementation_code for item in items]
            + [item.parent_code for item in items if item.parent_code]
        ).select_related("department", "current")
    }
    with transaction.atomic():
        for power in parsed.powers:
            services.power_save(actor=actor, content=power.content)
            counts["powers"] += 1
            progress.step()
        new = [item for item in items if item.implementation_code not in existing]
        if new and connection.features.can_return_rows_from_bulk_insert:
            created = _bulk_create(new, actor, departments, existing, progress)
        else:
            created = {}
        for parsed_item in items:
            version = created.get(parsed_item.implementation_code)
            if version is not None:
                counts["created"] += 1
            elif parsed_item.implementation_code not in existing:
                parent = existing.get(parsed_item.parent_code) if parsed_item.parent_code else None
                version = services.item_create(
                    actor=actor,
                    department=departments[parsed_item.department_code],
                    basic_code=parsed_item.basic_code,
                    level=parsed_item.level,
                    content=parsed_item.content,
                    parent=parent,
                )
                existing[parsed_item.implementation_code] = version.item
                counts["created"] += 1
                progress.step()
            else:
                found = existing[parsed_item.implementation_code]
                draft = services.version_draft_open(actor=actor, item=found)
                content = _keep_material_files(draft, parsed_item.content)
                version = services.version_update(actor=actor, version=draft, content=content)
                counts["updated"] += 1
                progress.step()
            if job.publish:
                services.version_publish_now(actor=actor, version=version)
                counts["published"] += 1
        summary = {**counts, "seconds": round(time.monotonic() - started, 2)}
        audit_record(action="catalog.import.run", actor=actor, target=job, detail=summary)
    return summary


def _bulk_create(
    new: list[spreadsheet.ParsedItem],
    actor: User,
    departments: dict[str, Department],
    existing: dict[str, ServiceItem],
    progress: _Progress,
) -> dict[str, ItemVersion]:
    """Create new items as ``services.item_create`` would, with a few queries per batch
    instead of a dozen per item: the same rows, and one audit entry per item.

    The content has been checked whole by the parser (``content_check`` and the file-wide
    reference lookups); ``existing`` gains the created items.
    """
    power_codes = {item.content.power_code for item in new if item.content.power_code}
    powers = dict(PowerItem.objects.filter(code__in=power_codes).values_list("code", "pk"))
    # parents before children: one bulk insert per depth
    by_depth: dict[int, list[spreadsheet.ParsedItem]] = {}
    depths = _depths(new)
    for item in new:
        by_depth.setdefault(depths[item.implementation_code], []).append(item)
    versions: dict[str, ItemVersion] = {}
    for depth in sorted(by_depth):
        group = by_depth[depth]
        rows = ServiceItem.objects.bulk_create(
            ServiceItem(
                implementation_code=item.implementation_code,
                basic_code=item.basic_code,
                level=item.level,
                parent=existing.get(item.parent_code) if item.parent_code else None,
                department=departments[item.department_code],
            )
            for item in group
        )
        for item, row in zip(group, rows, strict=True):
            existing[item.implementation_code] = row
    ordered = [item for depth in sorted(by_depth) for item in by_depth[depth]]
    version_rows = []
    for item in ordered:
        content = item.content
        version = ItemVersion(item=existing[item.implementation_code], number=1, created_by=actor)
        for name in services._SCALAR_FIELDS:
            setattr(version, name, getattr(content, name))
        version.name = content.name.strip()
        version.remedy = content.remedy.strip() or services.DEFAULT_REMEDY
        version.special_procedures = list(content.special_procedures)
        version.delivery_methods = list(content.delivery_methods)
        version.power_id = powers.get(content.power_code) if content.power_code else None
        version_rows.append(version)
    ItemVersion.objects.bulk_create(version_rows, batch_size=500)
    links: dict[str, list[Any]] = {"windows": [], "themes": [], "life_events": []}
    bases: list[VersionBasis] = []
    materials: list[Material] = []
    steps: list[ProcessStep] = []
    for item, version in zip(ordered, version_rows, strict=True):
        versions[item.implementation_code] = version
        resolved = item.resolved or spreadsheet.Resolved()
        for name, ids in (
            ("windows", resolved.window_ids),
            ("themes", resolved.theme_ids),
            ("life_events", resolved.life_event_ids),
        ):
            through, own, other = _through(name)
            links[name].extend(through(**{own: version.pk, other: pk}) for pk in ids)
        bases.extend(
            VersionBasis(
                version=version, basis_id=pk, article=given.article, is_setting=given.is_setting
            )
            for pk, given in resolved.bases
        )
        materials.extend(
            Material(
                version=version,
                order=index,
                name=material.name.strip(),
                originals=material.originals,
                copies=material.copies,
                media=material.media,
                is_required=material.is_required,
                condition=material.condition,
                source=material.source,
                acceptance_standard=material.acceptance_standard,
                template_file_id=material.template_file_id,
                sample_file_id=material.sample_file_id,
            )
            for index, material in enumerate(item.content.materials, start=1)
        )
        steps.extend(
            ProcessStep(
                version=version,
                order=index,
                name=step.name,
                description=step.description,
                days=step.days,
            )
            for index, step in enumerate(item.content.steps, start=1)
        )
    for name, rows in links.items():
        if rows:
            _through(name)[0].objects.bulk_create(rows, batch_size=1000)
    VersionBasis.objects.bulk_create(bases, batch_size=1000)
    Material.objects.bulk_create(materials, batch_size=1000)
    ProcessStep.objects.bulk_create(steps, batch_size=1000)
    _audit_many(
        actor,
        "catalog.item.create",
        [
            (existing[item.implementation_code], {"version": 1, "name": version.name})
            for item, version in zip(ordered, version_rows, strict=True)
        ],
        progress,
    )
    return versions


AUDIT_BATCH = 1000


def _audit_many(
    actor: User,
    action: str,
    entries: list[tuple[Any, dict[str, Any]]],
    progress: _Progress,
) -> None:
    """Append one audit entry per (target, detail), exactly as ``audit_record`` would, in
    batches: the chain head is locked and moved once per batch instead of once per entry.

    Moving the head ten thousand times in one transaction costs quadratic time on
    PostgreSQL (every update of the same row adds a version the next lookup must step
    over). The entries, their order and their hashes are those ``audit_record`` writes;
    ``verify_chain`` checks them like any other.
    """
    request_context = audit_context.current()
    acting_for = (
        (
            request_context.acting_for_type,
            request_context.acting_for_id,
            request_context.acting_for_label[:200],
        )
        if request_context.acting_for_type
        else ("", "", "")
    )
    actor_id, actor_label = int(actor.pk), str(actor.get_username())
    for start in range(0, len(entries), AUDIT_BATCH):
        batch = entries[start : start + AUDIT_BATCH]
        with transaction.atomic():
            head, _created = AuditHead.objects.select_for_update().get_or_create(
                pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
            )
            seq, previous = head.seq, head.hash
            rows = []
            for target, detail in batch:
                values: dict[str, Any] = {
                    "occurred_us": time.time_ns() // 1000,
                    "actor_id": actor_id,
                    "actor_label": actor_label,
                    "acting_for_type": acting_for[0],
                    "acting_for_id": acting_for[1],
                    "acting_for_label": acting_for[2],
                    "action": action,
                    "object_type": target._meta.label_lower,
                    "object_id": str(target.pk),
                    "object_label": str(target)[:300],
                    "outcome": str(Outcome.SUCCESS),
                    "ip": request_context.ip[:45],
                    "request_id": request_context.request_id[:64],
                    "detail": canonical_detail(detail),
                    "prev_hash": previous,
                }
                previous = entry_hash(tuple(values[column] for column in CHAINED_COLUMNS))
                seq += 1
                rows.append(AuditEntry(seq=seq, hash=previous, **values))
            AuditEntry.objects.bulk_create(rows)
            AuditHead.objects.filter(pk=1).update(seq=seq, hash=previous)
        for _row in batch:
            progress.step()


def _through(name: str) -> tuple[Any, str, str]:
    """The through model of an ItemVersion many-to-many field and its two id columns."""
    relation = ItemVersion._meta.get_field(name)
    return (
        relation.remote_field.through,  # type: ignore[union-attr]
        f"{relation.m2m_field_name()}_id",  # type: ignore[union-attr]
        f"{relation.m2m_reverse_field_name()}_id",  # type: ignore[union-attr]
    )


def _depths(items: list[spreadsheet.ParsedItem]) -> dict[str, int]:
    """How many ancestors of each item are in ``items`` (the parser refuses cycles)."""
    by_code = {item.implementation_code: item for item in items}
    depths: dict[str, int] = {}
    for item in items:
        chain = [item]
        parent = by_code.get(item.parent_code)
        while (
            parent is not None and parent.implementation_code not in depths and parent not in chain
        ):
            chain.append(parent)
            parent = by_code.get(parent.parent_code)
        base = depths.get(parent.implementation_code, -1) + 1 if parent is not None else 0
        for offset, member in enumerate(reversed(chain)):
            depths.setdefault(member.implementation_code, base + offset)
    return depths


def _parents_first(items: list[spreadsheet.ParsedItem]) -> list[spreadsheet.ParsedItem]:
    """The items ordered so that a parent in the file comes before its children."""
    depths = _depths(items)
    return sorted(items, key=lambda item: depths[item.implementation_code])


def _keep_material_files(draft: ItemVersion, content: services.ItemContent) -> services.ItemContent:
    """The sheet has no column for a material's blank form and sample: keep the draft's."""
    if draft.state not in OPEN_STATES:
        return content
    files = {
        material.name: (material.template_file_id, material.sample_file_id)
        for material in draft.materials.all()
        if material.template_file_id or material.sample_file_id
    }
    if not files:
        return content
    materials = []
    for material in content.materials:
        template, sample = files.get(material.name.strip(), (None, None))
        materials.append(
            replace(
                material,
                template_file_id=material.template_file_id or (str(template) if template else None),
                sample_file_id=material.sample_file_id or (str(sample) if sample else None),
            )
        )
    return replace(content, materials=tuple(materials))
