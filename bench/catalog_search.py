"""Catalogue search and need routing over 100,000 generated items; Excel import of 10,000.

Figures: ``search_p95_ms`` (catalog_search, top 20 with reasons), ``route_p95_ms``
(route_need: search + life events + departments), ``import_10k_s`` (validate and apply a
10,000-row workbook end to end), and ``index_100k_s`` (rebuilding the search index).
Baseline in the same run, on the same rows: ``like_p95_ms``, a plain ``LIKE '%word%'`` OR
query over name, keywords and conditions for the same query words, first 20 rows.

Set ``TONGBAN_BENCH_ITEMS`` to change the number of items (default 100,000).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from typing import Any

from bench.common import setup_django, write_result

ITEMS = int(os.environ.get("TONGBAN_BENCH_ITEMS", "100000"))
ROUNDS = 300

OBJECTS = [
    ("食品经营许可证", "餐饮 饭店 奶茶店 小吃"),
    ("食品生产许可证", "食品厂 加工"),
    ("药品经营许可证", "药店 药房"),
    ("医疗机构执业许可证", "诊所 医院"),
    ("道路运输经营许可证", "货运 物流 运输"),
    ("道路运输从业资格证", "货车司机 客运司机"),
    ("建设工程规划许可证", "盖房 建房 规划"),
    ("建筑工程施工许可证", "施工 工地"),
    ("社会保障卡", "社保卡 社保"),
    ("居民身份证", "身份证"),
    ("户口迁移证明", "迁户口 落户"),
    ("出生医学证明", "新生儿 出生"),
    ("不动产权证书", "房产证 过户"),
    ("住房公积金", "公积金 提取 贷款"),
    ("营业执照", "开公司 注册公司 个体户"),
    ("个体工商户营业执照", "个体户 开店"),
    ("排污许可证", "排污 环保"),
    ("取水许可证", "取水 用水"),
    ("烟草专卖零售许可证", "卖烟 烟草"),
    ("特种设备使用登记证", "电梯 锅炉"),
    ("建筑业企业资质证书", "建筑资质"),
    ("旅行社业务经营许可证", "旅行社 旅游"),
    ("娱乐经营许可证", "KTV 歌舞厅"),
    ("网络文化经营许可证", "网吧"),
    ("劳务派遣经营许可证", "劳务派遣 用工"),
    ("人力资源服务许可证", "职业中介 招聘"),
    ("城乡居民基本医疗保险参保登记", "医保 参保"),
    ("失业保险金申领", "失业金 失业"),
    ("婚姻登记", "结婚 离婚"),
    ("义务教育入学登记", "上学 小学 初中"),
    ("机动车登记证书", "上牌 车辆"),
    ("机动车驾驶证", "驾照 驾驶证"),
    ("养老保险待遇", "退休 养老金"),
    ("残疾人证", "残疾"),
    ("最低生活保障", "低保"),
    ("殡葬服务", "火化 丧葬"),
    ("宗教活动场所登记证", "宗教"),
    ("消防安全检查合格证", "消防 开业检查"),
    ("林木采伐许可证", "砍树 采伐"),
    ("动物防疫条件合格证", "养殖 防疫"),
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
    "户口簿",
    "结婚证",
    "出生医学证明",
    "不动产权证书",
    "环境影响评价文件",
    "消防验收意见",
    "从业人员名单",
    "章程",
]
DEPARTMENTS = [
    "市场监督管理局",
    "公安局",
    "人力资源和社会保障局",
    "医疗保障局",
    "卫生健康委员会",
    "住房和城乡建设局",
    "自然资源和规划局",
    "交通运输局",
    "教育局",
    "民政局",
    "生态环境局",
    "文化广电旅游局",
    "农业农村局",
    "水利局",
    "应急管理局",
    "商务局",
    "司法局",
    "烟草专卖局",
    "林业局",
    "住房公积金管理中心",
]
QUERIES: list[tuple[str, list[str]]] = [
    ("食品经营许可", ["食品经营许可"]),
    ("社保卡", ["社保卡"]),
    ("营业执照变更", ["营业执照", "变更"]),
    ("我想开一家奶茶店", ["奶茶店"]),
    ("孩子上小学要办什么", ["小学"]),
    ("shebao", ["shebao"]),
    ("sb", ["sb"]),
    ("shebo", ["shebo"]),
    ("gongjijin", ["gongjijin"]),
    ("驾驶证补办", ["驾驶证", "补办"]),
    ("怎么办理结婚登记", ["结婚", "登记"]),
    ("退休了养老金怎么领", ["退休", "养老金"]),
    ("开个网吧需要什么", ["网吧"]),
    ("电梯使用登记", ["电梯", "使用登记"]),
    ("排污许可证延续", ["排污许可证", "延续"]),
    ("药店", ["药店"]),
    ("建房规划", ["建房", "规划"]),
    ("失业金", ["失业金"]),
    ("个体户注销", ["个体户", "注销"]),
    ("施工许可", ["施工许可"]),
    ("新生儿落户", ["新生儿", "落户"]),
    ("公积金提取", ["公积金", "提取"]),
    ("旅行社", ["旅行社"]),
    ("消防检查", ["消防", "检查"]),
    ("低保申请", ["低保"]),
]


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def generate(count: int) -> None:
    """Bulk-create ``count`` published items (with materials) across 20 departments."""
    from tongban.apps.catalog.models import ItemVersion, Material, ServiceItem
    from tongban.platform.orgs.models import Department, Division

    generator = random.Random(20261123)  # noqa: S311 - benchmark input
    division = Division.objects.create(
        code="990100000000", name="示范市", level=2, path="/990100000000/"
    )
    departments = [
        Department.objects.create(
            division=division,
            code=f"D{index:02d}",
            uscc=f"11990100MB{index:07d}X",
            name=f"示范市{name}",
            path=f"/D{index:02d}/",
            division_path=division.path,
        )
        for index, name in enumerate(DEPARTMENTS)
    ]
    batch = 5000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        items = []
        for offset in range(size):
            number = start + offset
            department = departments[number % len(departments)]
            items.append(
                ServiceItem(
                    implementation_code=f"B{number:09d}{division.code}{department.uscc}000",
                    basic_code=f"B{number:09d}",
                    level="main",
                    department=department,
                )
            )
        ServiceItem.objects.bulk_create(items)
        created = list(
            ServiceItem.objects.filter(basic_code__gte=f"B{start:09d}")
            .order_by("pk")
            .select_related("department")[:size]
        )
        versions = []
        for item in created:
            thing, words = generator.choice(OBJECTS)
            action = generator.choice(ACTIONS)
            versions.append(
                ItemVersion(
                    item=item,
                    number=1,
                    state="published",
                    name=f"{thing}{action}",
                    item_type="licensing",
                    competent_department=item.department.name,
                    conditions=(
                        f"申请{thing}{action}的，应当具备相应条件；"
                        f"{generator.choice(MATERIALS)}齐全有效，符合法定形式。"
                    ),
                    legal_limit_days=20,
                    promised_limit_days=generator.randint(1, 15),
                    case_type="promised",
                    keywords=words,
                    result_name=thing,
                    online_depth=generator.randint(2, 4),
                )
            )
        ItemVersion.objects.bulk_create(versions)
        version_ids = dict(
            ItemVersion.objects.filter(item__in=created).values_list("item_id", "id")
        )
        for item in created:
            item.current_id = version_ids[item.pk]
        ServiceItem.objects.bulk_update(created, ["current"])
        Material.objects.bulk_create(
            Material(version_id=version_ids[item.pk], order=order, name=name)
            for item in created
            for order, name in enumerate(generator.sample(MATERIALS, generator.randint(3, 6)))
        )


def run() -> dict[str, Any]:
    vendor = setup_django("catalog_search")
    from django.db.models import Q

    from tongban.apps.catalog import indexing, selectors, services
    from tongban.apps.catalog.models import ItemVersion

    started = time.perf_counter()
    generate(ITEMS)
    generated_s = time.perf_counter() - started
    services.life_event_save(
        actor=None, code="school", name="入学", audience="person", keywords="上学 小学 初中 入学"
    )
    started = time.perf_counter()
    indexed = indexing.catalog_reindex()
    index_s = time.perf_counter() - started
    assert indexed == ITEMS, indexed

    generator = random.Random(7)  # noqa: S311
    plan = [generator.choice(QUERIES) for _ in range(ROUNDS)]
    empty = []
    for text, _words in QUERIES:  # warm caches (dictionary, vocabulary) and check answers
        hits, _total, _understood = selectors.catalog_search(text=text, limit=20)
        if not hits:
            empty.append(text)
    assert not empty, f"queries with no hits: {empty}"

    def timed(call: Any) -> list[float]:
        samples = []
        for text, words in plan:
            began = time.perf_counter()
            call(text, words)
            samples.append((time.perf_counter() - began) * 1000)
        return samples

    search_ms = timed(lambda text, words: selectors.catalog_search(text=text, limit=20))
    route_ms = timed(lambda text, words: selectors.route_need(text=text, limit=10))

    def like(text: str, words: list[str]) -> None:
        condition = Q()
        for word in words:
            condition |= (
                Q(name__contains=word) | Q(keywords__contains=word) | Q(conditions__contains=word)
            )
        list(ItemVersion.objects.filter(state="published").filter(condition)[:20])

    like_ms = timed(like)

    figures: dict[str, float] = {
        "search_p95_ms": round(_p95(search_ms), 2),
        "route_p95_ms": round(_p95(route_ms), 2),
        "search_median_ms": round(statistics.median(search_ms), 2),
        "index_100k_s": round(index_s * 100_000 / ITEMS, 2),
        "items": ITEMS,
    }
    try:
        from bench.catalog_import import measure_import
    except ImportError:
        print("bench.catalog_import not available: import_10k_s not measured")
    else:
        figures["import_10k_s"] = round(measure_import(10_000), 2)
    baseline = {
        "like_p95_ms": round(_p95(like_ms), 2),
        "like_median_ms": round(statistics.median(like_ms), 2),
        "generate_s": round(generated_s, 2),
    }
    print(f"database: {vendor}")
    return write_result(
        f"catalog_search_{vendor}",
        figures,
        baseline,
        {},
        ceilings={"search_p95_ms": 30, "route_p95_ms": 50, "import_10k_s": 30},
    )
