"""Official documents: sending one sealed document to many units, rendering, verifying.

The Yunfu seed's figure: sending one document to 140 units took 3–4 people half a day.
Here ``exchange.document_send`` does it — permission check, resolving the units, one
``Dispatch`` and one ``Delivery`` per unit inserted in bulk, the 分发 step, the audit
entry and one ``documents.dispatch.sent`` event — with the notifications queued, not
sent: the task backend is the dummy one, so the event's handler (which writes the
messages in batches) is left to the worker, as in production.

Figures:
- ``fanout_140_s``: a send to 140 departments (best of 5, a new document each time).
- ``fanout_10000_s``: a send to 10,000 departments (best of 3).
- ``render_10_pages_s``: ``rendering.render_document`` of a 10-page document, warm
  (fonts loaded by a first rendering), best of 3.
- ``verify_ms``: ``sealing.verify`` of a sealed document (PAdES + SM2), best of 7.
Baseline, same run: ``bulk_insert_140_s`` / ``bulk_insert_10000_s``, a bare
``bulk_create`` of the same number of Delivery rows in one transaction (no checks, no
audit, no event): the floor of any send that stores one row per unit.

Needs PostgreSQL (the targets are PostgreSQL figures): ``TONGBAN_BENCH_DATABASE_URL``,
default ``postgres://postgres@127.0.0.1:5432/tongban_bench_documents`` (created when
missing, emptied). Without a reachable server it says so and skips.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
import uuid
from typing import Any

from bench.common import setup_django, write_result

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tongban_bench_documents"
UNITS = 10_000


def _ensure_database(url: str) -> bool:
    """Create the database when missing; False when no PostgreSQL answers."""
    name = url.rsplit("/", 1)[-1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    try:
        found = subprocess.run(  # noqa: S603
            ["psql", server, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout.strip()
        if not found:
            subprocess.run(  # noqa: S603
                ["psql", server, "-c", f'CREATE DATABASE "{name}"'],  # noqa: S607
                check=True,
                capture_output=True,
                timeout=60,
            )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _city(units: int) -> tuple[Any, list[int], Any]:
    """The issuing office with its sender, and ``units`` receiving departments."""
    from tests import factories
    from tongban.apps.documents import permissions as p
    from tongban.platform.access.models import Scope
    from tongban.platform.orgs.models import Department

    division = factories.division()
    office = factories.department(division, "SZFB", "示范市人民政府办公室")
    unit = factories.unit(office, "SZFB-WS", "文电处")
    role = factories.role("bench_doc_sender", [p.NUMBER_SEAL, p.VIEW])
    sender = factories.staff("bench_sender", unit, role_obj=role, scope=Scope.DEPARTMENT)
    Department.objects.bulk_create(
        [
            Department(
                division=division,
                code=f"U{number:05d}",
                uscc=f"B{number:017d}",
                name=f"示范市第{number + 1}单位",
                path=f"/U{number:05d}/",
                division_path=division.path,
            )
            for number in range(units)
        ],
        batch_size=2_000,
    )
    ids = list(
        Department.objects.filter(code__startswith="U")
        .order_by("code")
        .values_list("pk", flat=True)
    )
    return office, ids, sender


def _document(office: Any, sender: Any, serial: int) -> Any:
    from django.utils import timezone

    from tongban.apps.documents.models import Document, DocumentState
    from tongban.platform.files.models import StoredFile

    stored = StoredFile.objects.create(
        original_name="document.pdf",
        size=10,
        content_type="application/pdf",
        sm3="0" * 64,
        storage_name=f"bench/{uuid.uuid4().hex}.pdf",
        uploaded_by=sender,
    )
    return Document.objects.create(
        issuer=office,
        drafter=sender,
        issuer_code="示范府办",
        year=2026,
        serial=serial,
        number=f"示范府办〔2026〕{serial}号",
        title="示范市人民政府办公室关于做好年度政务公开工作的通知",
        state=DocumentState.DISTRIBUTING,
        sealed_pdf=stored,
        sealed_at=timezone.now(),
    )


def _send_seconds(office: Any, sender: Any, ids: list[int], *, rounds: int, serial: int) -> float:
    from tongban.apps.documents.exchange import document_send
    from tongban.apps.documents.models import Delivery

    best = float("inf")
    for attempt in range(rounds):
        document = _document(office, sender, serial + attempt)
        sender = type(sender).objects.get(pk=sender.pk)  # cold permission cache, as a request
        started = time.perf_counter()
        dispatch = document_send(
            actor=sender, document=document, recipients=ids, groups=[], sign_within_hours=72
        )
        best = min(best, time.perf_counter() - started)
        assert dispatch.recipient_count == len(ids)
        assert Delivery.objects.filter(dispatch=dispatch).count() == len(ids)
    return best


def _bulk_seconds(office: Any, sender: Any, ids: list[int], *, rounds: int, serial: int) -> float:
    from django.db import transaction
    from django.utils import timezone

    from tongban.apps.documents.models import Delivery, Dispatch

    best = float("inf")
    for attempt in range(rounds):
        document = _document(office, sender, serial + attempt)
        now = timezone.now()
        dispatch = Dispatch.objects.create(
            document=document,
            sender=office,
            sent_by=sender,
            sent_at=now,
            sign_within_hours=72,
            recipient_count=len(ids),
        )
        due = now + dt.timedelta(hours=72)
        started = time.perf_counter()
        with transaction.atomic():
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        dispatch=dispatch,
                        document=document,
                        recipient_id=pk,
                        delivered_at=now,
                        due_at=due,
                    )
                    for pk in ids
                ],
                batch_size=2_000,
            )
        best = min(best, time.perf_counter() - started)
    return best


def _ten_page_document() -> tuple[Any, int]:
    from tongban.apps.documents.layout import OfficialDocument
    from tongban.apps.documents.rendering import layout_document

    sentence = (
        "各区人民政府、市直各单位要对照省级清单，完成本地区本部门政务服务事项认领和要素完善工作，"
        "确保事项名称、设定依据、办理条件、申请材料、办理流程和办理时限准确规范、同源发布。"
    )
    paragraphs = 16
    while True:
        body = tuple(f"{'一二三四五六七八九十'[n % 10]}、{sentence * 3}" for n in range(paragraphs))
        doc = OfficialDocument(
            issuer="示范市人民政府",
            title="示范市人民政府关于进一步加强政务服务标准化规范化便利化建设的通知",
            date=dt.date(2026, 11, 30),
            body=body,
            issuer_code="示范府",
            year=2026,
            serial=12,
            addressees="各区人民政府，市直各单位",
            cc=("市委办公室", "市人大常委会办公室"),
            printed_by="示范市人民政府办公室",
            printed_on=dt.date(2026, 11, 30),
        )
        pages = len(layout_document(doc))
        if pages >= 10:
            return doc, pages
        paragraphs += 1


def _render_seconds(doc: Any) -> float:
    from tongban.apps.documents.rendering import render_document

    render_document(doc)  # warm: fonts loaded and cached
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        render_document(doc)
        best = min(best, time.perf_counter() - started)
    return best


def _verify_ms(doc: Any) -> float:
    from tongban.apps.documents import sealing

    identity = sealing.demo_identity("示范市人民政府")
    sealed = sealing.seal_document(doc, identity)
    result = sealing.verify(sealed.pdf, sealed.sm2_signature, identity.sm2_public_pem, doc)
    assert result.intact, result.reasons
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        sealing.verify(sealed.pdf, sealed.sm2_signature, identity.sm2_public_pem, doc)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def run() -> dict[str, Any]:
    url = os.environ.setdefault("TONGBAN_BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres") or not _ensure_database(url):
        print(
            "documents_fanout: skipped — needs PostgreSQL (set TONGBAN_BENCH_DATABASE_URL to "
            f"a database that may be emptied; tried {url!r})"
        )
        return {}
    setup_django("documents_fanout")
    from django.conf import settings

    # notifications are queued (event deliveries written), never run inline
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "events", "notify"],
        }
    }
    import tongban.apps.documents.handlers  # noqa: F401  (the subscribers, as in production)

    office, ids, sender = _city(UNITS)
    fanout_140 = _send_seconds(office, sender, ids[:140], rounds=5, serial=1)
    print(f"fanout 140: {fanout_140:.3f} s", flush=True)
    fanout_10000 = _send_seconds(office, sender, ids[:UNITS], rounds=3, serial=100)
    print(f"fanout 10,000: {fanout_10000:.3f} s", flush=True)
    bulk_140 = _bulk_seconds(office, sender, ids[:140], rounds=5, serial=200)
    bulk_10000 = _bulk_seconds(office, sender, ids[:UNITS], rounds=3, serial=300)
    doc, pages = _ten_page_document()
    render_s = _render_seconds(doc)
    print(f"render {pages} pages: {render_s:.3f} s", flush=True)
    verify_ms = _verify_ms(doc)

    from tongban.platform.events.models import Delivery as EventDelivery

    figures = {
        "fanout_140_s": fanout_140,
        "fanout_10000_s": fanout_10000,
        "render_10_pages_s": render_s,
        "verify_ms": verify_ms,
    }
    result = write_result(
        "documents_fanout",
        figures,
        baseline={"bulk_insert_140_s": bulk_140, "bulk_insert_10000_s": bulk_10000},
        targets={},
        ceilings={
            "fanout_140_s": 0.2,
            "fanout_10000_s": 2.0,
            "render_10_pages_s": 2.0,
            "verify_ms": 50.0,
        },
    )
    queued = EventDelivery.objects.filter(event__name="documents.dispatch.sent").count()
    print(f"  notifications queued: {queued} dispatch.sent deliveries pending for the worker")
    return result
