"""The platform search engine over 100,000 generated government-service documents.

Figures: ``index_100k_s`` (segment and bulk-index the whole namespace with
``search_documents_bulk_replace``) and ``search_p95_ms`` (``search_query``, top 20 with
explanations) over ~300 varied queries: words, sentences, pinyin, initials and typos.
Baseline in the same run, on the same table: ``like_p95_ms``, a plain ``icontains`` OR query
over the title and body tokens for the same query words, first 20 rows.

Set ``TONGBAN_BENCH_DOCUMENTS`` to change the number of documents (default 100,000).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

from bench.common import setup_django, write_result

DOCUMENTS = int(os.environ.get("TONGBAN_BENCH_DOCUMENTS", "100000"))
QUERY_COUNT = 300
NAMESPACE = "bench.item"

OBJECTS = [
    ("食品经营许可证", "餐饮 饭店 奶茶店 小吃 食品销售"),
    ("食品生产许可证", "食品厂 加工 生产"),
    ("药品经营许可证", "药店 药房 零售"),
    ("医疗机构执业许可证", "诊所 医院 门诊"),
    ("道路运输经营许可证", "货运 物流 运输"),
    ("道路运输从业资格证", "货车司机 客运 驾驶员"),
    ("建设工程规划许可证", "盖房 建房 规划"),
    ("建筑工程施工许可证", "施工 工地 开工"),
    ("社会保障卡", "社保卡 社保 人社"),
    ("居民身份证", "身份证 户籍"),
    ("户口迁移证明", "迁户口 落户 户籍"),
    ("出生医学证明", "新生儿 出生 医院"),
    ("不动产权证书", "房产证 过户 不动产登记"),
    ("住房公积金", "公积金 提取 贷款"),
    ("营业执照", "开公司 注册公司 个体户 企业开办"),
    ("个体工商户营业执照", "个体户 开店"),
    ("排污许可证", "排污 环保"),
    ("取水许可证", "取水 用水"),
    ("烟草专卖零售许可证", "卖烟 烟草"),
    ("特种设备使用登记证", "电梯 锅炉"),
    ("旅行社业务经营许可证", "旅行社 旅游"),
    ("网络文化经营许可证", "网吧 上网服务"),
    ("劳务派遣经营许可证", "劳务派遣 用工"),
    ("人力资源服务许可证", "职业中介 招聘"),
    ("城乡居民基本医疗保险参保登记", "医保 参保"),
    ("失业保险金申领", "失业金 失业"),
    ("结婚登记", "结婚 婚姻"),
    ("义务教育入学登记", "上学 小学 初中 入学"),
    ("机动车登记证书", "上牌 车辆"),
    ("机动车驾驶证", "驾照 驾驶证"),
    ("养老保险待遇", "退休 养老金"),
    ("残疾人证", "残疾 补贴"),
    ("最低生活保障", "低保 救助"),
    ("消防安全检查合格证", "消防 开业检查"),
    ("林木采伐许可证", "砍树 采伐"),
    ("动物防疫条件合格证", "养殖 防疫"),
]
ACTIONS = ["核发（新办）", "变更", "延续", "注销", "补办", "换发", "年度报告", "备案", "查询"]
DEPARTMENTS = [
    ("市场监督管理局", "330100001"),
    ("公安局", "330100002"),
    ("人力资源和社会保障局", "330100003"),
    ("医疗保障局", "330100004"),
    ("卫生健康委员会", "330100005"),
    ("住房和城乡建设局", "330100006"),
    ("自然资源和规划局", "330100007"),
    ("交通运输局", "330100008"),
    ("教育局", "330100009"),
    ("民政局", "330100010"),
    ("生态环境局", "330100011"),
    ("文化广电旅游局", "330100012"),
    ("农业农村局", "330100013"),
    ("住房公积金管理中心", "330100014"),
]
CONDITIONS = [
    "申请人应当具有与经营项目相适应的经营场所",
    "具有合法有效的营业执照或者身份证明",
    "从业人员应当取得健康证明",
    "具有保证安全的管理制度和专业技术人员",
    "申请人年满十八周岁且具有完全民事行为能力",
    "设施设备符合国家标准和行业规范",
    "已依法参加社会保险并按时缴费",
    "近三年内无重大违法违规记录",
    "场所与有毒有害场所保持规定的距离",
    "按规定提交年度报告并公示",
]
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
TYPES = ["xk", "qr", "gf", "gg", "qt"]
QUERIES = [
    "食品经营许可",
    "社保卡",
    "营业执照变更",
    "我想开一家奶茶店",
    "孩子上小学要办什么",
    "shebao",
    "sb",
    "shebo",
    "gongjijin",
    "gjj",
    "yingye zhizhao",
    "驾驶证补办",
    "怎么办理结婚登记",
    "退休了养老金怎么领",
    "开个网吧需要什么",
    "电梯使用登记",
    "排污许可证延续",
    "药店",
    "建房规划",
    "失业金",
    "个体户注销",
    "施工许可",
    "新生儿落户",
    "公积金提取",
    "旅行社",
    "消防检查",
    "低保申请",
    "身份证",
    "健康证明",
    "不动产登记",
]


def documents(generator: random.Random) -> Iterator[Any]:
    from tongban.platform.search.services import DocumentInput

    for number in range(DOCUMENTS):
        name, aliases = generator.choice(OBJECTS)
        action = generator.choice(ACTIONS)
        department, code = generator.choice(DEPARTMENTS)
        title = f"{name}{action}"
        if generator.random() < 0.3:
            title = f"{generator.choice(['县级', '市级', '乡镇'])}{title}"
        conditions = "；".join(generator.sample(CONDITIONS, 4))
        materials = "、".join(generator.sample(MATERIALS, 6))
        body = f"办理条件：{conditions}。申请材料：{materials}。办理{name}{action}须知。"
        yield DocumentInput(
            key=str(number),
            title=title,
            title_text=title,
            keywords_text=f"{aliases} {department}",
            body_text=body,
            filters={"department": code, "type": generator.choice(TYPES)},
            boost=1.0 + generator.random() * 0.2,
        )


def queries(generator: random.Random) -> list[str]:
    varied = list(QUERIES)
    while len(varied) < QUERY_COUNT:
        name, aliases = generator.choice(OBJECTS)
        shape = generator.randrange(4)
        if shape == 0:
            varied.append(f"{name}{generator.choice(ACTIONS)[:2]}")
        elif shape == 1:
            varied.append(f"我想办{generator.choice(aliases.split())}")
        elif shape == 2:
            varied.append(generator.choice(QUERIES))
        else:
            varied.append(f"{generator.choice(DEPARTMENTS)[0]} {generator.choice(aliases.split())}")
    generator.shuffle(varied)
    return varied


def _p95_ms(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[-1] * 1000, 2)


def run() -> dict[str, Any]:
    vendor = setup_django("search_engine")
    from django.db.models import Q

    from tongban.platform.search import text
    from tongban.platform.search.models import SearchDocument
    from tongban.platform.search.selectors import search_query
    from tongban.platform.search.services import search_documents_bulk_replace

    generator = random.Random(20260301)  # noqa: S311 - benchmark input, not security
    text.tokenizer()  # load jieba outside the timings
    started = time.perf_counter()
    count = search_documents_bulk_replace(namespace=NAMESPACE, documents=documents(generator))
    index_seconds = time.perf_counter() - started
    assert count == DOCUMENTS
    if vendor == "postgresql":
        from django.db import connection

        with connection.cursor() as cursor:
            # what autovacuum does soon after a load: statistics and the visibility map
            cursor.execute("VACUUM ANALYZE search_searchdocument")

    asked = queries(generator)
    for query in asked[:20]:  # warm caches (vocabulary, synonyms, database pages)
        search_query(namespace=NAMESPACE, text=query)
    assert search_query(namespace=NAMESPACE, text="shebao").hits
    assert search_query(namespace=NAMESPACE, text="shebo").hits
    assert search_query(namespace=NAMESPACE, text="sb").hits

    search_samples = []
    for query in asked:
        started = time.perf_counter()
        search_query(namespace=NAMESPACE, text=query, limit=20)
        search_samples.append(time.perf_counter() - started)

    like_samples = []
    for query in asked:
        started = time.perf_counter()
        words = text.words_for_query(query)  # the same words, matched as substrings
        condition = Q()
        for word in words:
            condition |= Q(title__icontains=word) | Q(tokens_body__icontains=word)
        if words:
            list(
                SearchDocument.objects.filter(condition, namespace=NAMESPACE).values_list(
                    "key", "title"
                )[:20]
            )
        like_samples.append(time.perf_counter() - started)

    figures = {
        "index_100k_s": round(index_seconds * 100_000 / DOCUMENTS, 1),
        "search_p95_ms": _p95_ms(search_samples),
        "search_median_ms": round(statistics.median(search_samples) * 1000, 2),
    }
    baseline = {"like_p95_ms": _p95_ms(like_samples)}
    name = "search_engine" if vendor == "sqlite" else f"search_engine_{vendor}"
    return write_result(name, figures, baseline, {}, {"search_p95_ms": 30.0})
