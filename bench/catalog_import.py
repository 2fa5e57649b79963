"""Excel import of the catalogue: a generated 10,000-item workbook, checked and applied.

Figure: ``import_10k_s``, ``import_job_run`` end to end (read the stored file, parse and
check every row, create every item with its first version, materials, steps and legal
basis and an audit entry per item, in one transaction). Each item has 3–6 materials and 3
steps, spread over demo departments created in the bench database.

Baseline in the same run: ``bulk_insert_10k_s``, a plain ``bulk_create`` of the same number
of ``ServiceItem`` + ``ItemVersion`` rows (no children, no checks, no audit).

Set ``TONGBAN_BENCH_IMPORT_ITEMS`` to change the number of items (default 10,000).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from bench.common import setup_django, write_result

ITEMS = int(os.environ.get("TONGBAN_BENCH_IMPORT_ITEMS", "10000"))
DEPARTMENTS = [
    ("SCJG", "市场监督管理局"),
    ("GAJ", "公安局"),
    ("RSJ", "人力资源和社会保障局"),
    ("JYJ", "教育局"),
    ("ZJJ", "住房和城乡建设局"),
    ("JTJ", "交通运输局"),
    ("WJW", "卫生健康委员会"),
    ("MZJ", "民政局"),
    ("STJ", "生态环境局"),
    ("ZRJ", "自然资源和规划局"),
]
OBJECTS = [
    "食品经营许可证",
    "药品经营许可证",
    "道路运输经营许可证",
    "建筑工程施工许可证",
    "社会保障卡",
    "不动产权证书",
    "排污许可证",
    "取水许可证",
    "医疗机构执业许可证",
    "人力资源服务许可证",
    "最低生活保障",
    "义务教育入学登记",
]
ACTIONS = ["核发（新办）", "变更", "延续", "注销", "补办", "换发", "年度报告", "备案"]
MATERIALS = [
    "申请表",
    "居民身份证",
    "营业执照",
    "经营场所使用证明",
    "法定代表人身份证明",
    "授权委托书",
    "场所平面图",
    "设备设施清单",
    "管理制度文本",
    "健康证明",
]
LAW = "《中华人民共和国行政许可法》"
_next_code = iter(range(1, 10**9))


def _setup() -> tuple[Any, list[Any]]:
    """Demo departments, a legal basis and an importer allowed everywhere."""
    from tongban.apps.catalog.models import LegalBasis
    from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
    from tongban.platform.access.services import access_sync_permissions
    from tongban.platform.accounts.idnumbers import make_uscc
    from tongban.platform.accounts.models import User
    from tongban.platform.orgs.models import Department, Division

    division, _ = Division.objects.get_or_create(
        code="990100000000",
        defaults={"name": "示范市", "level": 2, "path": "/990100000000/"},
    )
    departments = []
    for number, (code, name) in enumerate(DEPARTMENTS, start=1):
        department, _ = Department.objects.get_or_create(
            code=code,
            defaults={
                "division": division,
                "uscc": make_uscc("1", "1", "990100", f"{number:08d}0"),
                "name": f"示范市{name}",
                "path": f"/{code}/",
                "division_path": division.path,
            },
        )
        departments.append(department)
    LegalBasis.objects.get_or_create(title=LAW, defaults={"kind": "law"})
    access_sync_permissions()
    role, _ = Role.objects.get_or_create(code="bench-importer", defaults={"name": "导入"})
    role.permissions.set(Permission.objects.filter(code__startswith="catalog."))
    user, created = User.objects.get_or_create(
        username="bench-importer", defaults={"display_name": "导入员", "kind": "staff"}
    )
    if created:
        RoleAssignment.objects.create(user=user, role=role, scope=Scope.ALL)
    return user, departments


def generate_workbook(rows: int, departments: list[Any], seed: int = 20260101) -> bytes:
    """A realistic workbook of ``rows`` new main items (3–6 materials, 3 steps each)."""
    from tongban.apps.catalog import services, spreadsheet

    generator = random.Random(seed)  # noqa: S311 - benchmark input, not security
    book = spreadsheet.WorkbookRows()
    for _ in range(rows):
        number = next(_next_code)
        department = departments[number % len(departments)]
        subject = generator.choice(OBJECTS)
        action = generator.choice(ACTIONS)
        promised = generator.randint(1, 15)
        names = generator.sample(MATERIALS, generator.randint(3, 6))
        content = services.ItemContent(
            name=f"{subject}{action}（{number}）",
            item_type="licensing",
            competent_department=department.name,
            conditions=f"申请{subject}{action}的公民、法人和其他组织，符合法定条件。",
            legal_limit_days=promised + generator.randint(0, 10),
            promised_limit_days=promised,
            case_type="promised",
            keywords=f"{subject} {action}",
            result_name=subject,
            consult_phone="0999-12345",
            address="示范市政务服务中心",
            office_hours="工作日 9:00-17:00",
            bases=(services.BasisInput(title=LAW, article="第十二条"),),
            materials=tuple(
                services.MaterialInput(
                    name=name,
                    is_required=index != 2,
                    condition="" if index != 2 else "委托他人办理的",
                )
                for index, name in enumerate(names)
            ),
            steps=(
                services.StepInput(name="受理", days=1),
                services.StepInput(name="审查", description="审查申请材料", days=promised - 1),
                services.StepInput(name="决定", days=0),
            ),
        )
        spreadsheet.item_rows(
            book,
            department_code=department.code,
            basic_code=f"{number:012d}",
            level="main",
            parent_code="",
            implementation_code="",
            content=content,
        )
    return spreadsheet.write_workbook(book)


def measure_import(rows: int, *, publish: bool = False) -> float:
    """Seconds for ``import_job_run`` on a fresh ``rows``-item workbook, end to end."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tongban.apps.catalog import imports
    from tongban.apps.catalog.models import ImportJob, ImportState
    from tongban.platform.files.services import file_store

    user, departments = _setup()
    data = generate_workbook(rows, departments)
    stored = file_store(actor=user, upload=SimpleUploadedFile("bench.xlsx", data))
    job = ImportJob.objects.create(file=stored, created_by=user, publish=publish)
    started = time.perf_counter()
    finished = imports.import_job_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    if finished.state != ImportState.DONE:
        raise RuntimeError(f"import ended {finished.state}: {finished.errors[:3]}")
    return elapsed


def measure_bulk_insert(rows: int) -> float:
    """Seconds for a plain bulk_create of ``rows`` ServiceItem + ItemVersion rows."""
    from django.db import transaction

    from tongban.apps.catalog.models import ItemVersion, ServiceItem

    _user, departments = _setup()
    codes = [next(_next_code) for _ in range(rows)]
    started = time.perf_counter()
    with transaction.atomic():
        items = ServiceItem.objects.bulk_create(
            ServiceItem(
                implementation_code=f"B{code:012d}{departments[code % len(departments)].uscc}000",
                basic_code=f"B{code:011d}",
                level="main",
                department=departments[code % len(departments)],
            )
            for code in codes
        )
        if any(item.pk is None for item in items):  # a database that returns no ids
            by_code = dict(
                ServiceItem.objects.filter(basic_code__startswith="B").values_list(
                    "implementation_code", "pk"
                )
            )
            for item in items:
                item.pk = by_code[item.implementation_code]
        ItemVersion.objects.bulk_create(
            ItemVersion(
                item_id=item.pk,
                number=1,
                name=f"事项{code}",
                item_type="licensing",
                competent_department="示范市市场监督管理局",
                conditions="符合法定条件。",
                legal_limit_days=20,
                promised_limit_days=10,
                case_type="promised",
            )
            for item, code in zip(items, codes, strict=True)
        )
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    vendor = setup_django("catalog_import")
    import_seconds = measure_import(ITEMS)
    bulk_seconds = measure_bulk_insert(ITEMS)
    suffix = "" if ITEMS == 10_000 else f"_{ITEMS}"
    figures = {f"import_10k_s{suffix}": round(import_seconds, 2)}
    baseline = {f"bulk_insert_10k_s{suffix}": round(bulk_seconds, 2)}
    print(f"database: {vendor}")
    return write_result("catalog_import", figures, baseline, {}, ceilings={"import_10k_s": 30.0})
