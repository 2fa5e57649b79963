from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tongban.platform.audit.models import AuditEntry
from tongban.platform.search import services, text, vocabulary
from tongban.platform.search.models import SearchDocument, SearchTerm, SynonymGroup
from tongban.platform.search.selectors import search_query

NS = "test.item"


@pytest.fixture(autouse=True)
def _fresh_caches():
    vocabulary.invalidate()
    yield
    vocabulary.invalidate()


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_user(
        "search-admin", "Test@2026x", display_name="管理员", kind="staff"
    )


def index(key, title, keywords="", body="", **extra):
    services.search_document_upsert(
        namespace=NS,
        key=key,
        title=title,
        title_text=title,
        keywords_text=keywords,
        body_text=body,
        **extra,
    )


def keys(query, **kwargs):
    return [hit.key for hit in search_query(namespace=NS, text=query, **kwargs).hits]


@pytest.fixture
def catalogue(db):
    index("shebao", "社保卡申领", "社会保障 人力社保局", "本市参保人员可申领社保卡。")
    index("id", "居民身份证申领", "公安局 户籍", "年满十六周岁的居民应申领身份证。")
    index("food", "食品经营许可证核发（新办）", "市场监管局 许可", "从事食品销售和餐饮服务。")
    index("license", "营业执照办理", "市场监管局 开公司", "设立公司或个体工商户。")
    index("birth", "出生医学证明补发", "卫生健康委 新生儿", "新生儿出生医学证明遗失补发。")


def test_segmentation_uses_the_government_dictionary():
    tokens = text.tokens_for_index("办理食品经营许可证和社会保障卡")
    assert "食品经营许可证" in tokens
    assert "食品经营许可" in tokens  # dictionary word inside a longer word
    assert "社会保障卡" in tokens
    assert "社保卡" in text.tokens_for_index("社保卡补办")
    assert text.words_for_query("我想开一家奶茶店") == ["开", "奶茶店"]
    assert text.words_for_query("请问身份证怎么办理？") == ["身份证"]
    assert text.pinyin_of("社保") == ("shebao", "sb")


def test_chinese_word_finds_document(catalogue):
    result = search_query(namespace=NS, text="营业执照")
    assert [hit.key for hit in result.hits] == ["license"]
    assert result.total == 1
    assert result.concepts[0].original == "营业执照"
    assert result.concepts[0].via == "word"
    # a word that is only part of a dictionary word in the document
    assert keys("执照") == ["license"]


def test_pinyin_initials_and_typo(catalogue):
    for query, via in [("shebao", "pinyin"), ("sb", "initials"), ("shebo", "pinyin_fuzzy")]:
        result = search_query(namespace=NS, text=query)
        assert result.hits, query
        assert result.hits[0].key == "shebao", query
        assert result.concepts[0].via == via
        assert "社保" in result.concepts[0].alternatives
        assert {match.via for match in result.hits[0].matches} == {via}
    assert SearchTerm.objects.get(term="社保卡").initials == "sbk"


def test_synonyms_work_both_ways_and_take_effect_at_once(catalogue, admin_user):
    index("idcard", "身份证挂失", "", "")
    assert keys("居民身份证") == ["id"]
    services.synonym_group_create(actor=admin_user, terms=["身份证", "居民身份证"])
    assert set(keys("居民身份证")) == {"id", "idcard"}
    result = search_query(namespace=NS, text="身份证")
    assert {hit.key for hit in result.hits} == {"id", "idcard"}
    assert result.concepts[0].via == "synonym"
    assert set(result.concepts[0].alternatives) == {"身份证", "居民身份证"}


def test_synonym_routes_a_phrase_to_the_licence(catalogue, admin_user):
    assert keys("开饭店") == []
    services.synonym_group_create(
        actor=admin_user, terms=["开饭店", "餐饮", "食品经营许可"], note="开店"
    )
    result = search_query(namespace=NS, text="我想开饭店")
    assert [hit.key for hit in result.hits] == ["food"]
    reasons = {(match.term, match.field, match.via) for match in result.hits[0].matches}
    assert ("食品经营许可", "title", "synonym") in reasons
    assert ("餐饮", "body", "synonym") in reasons


def test_filters(db):
    index("a", "社保卡申领", filters={"department": "330100", "type": "gg"})
    index("b", "社保卡补办", filters={"department": "330200", "type": "gg"})
    assert set(keys("社保卡")) == {"a", "b"}
    assert keys("社保卡", filters={"department": "330200"}) == ["b"]
    assert keys("社保卡", filters={"department": "330200", "type": "xk"}) == []
    hit = search_query(namespace=NS, text="社保卡", filters={"type": "gg"}).hits[0]
    assert hit.filters["type"] == "gg"
    with pytest.raises(ValueError, match="filter"):
        search_query(namespace=NS, text="社保卡", filters={"x') OR 1=1 --": "1"})


def test_title_match_ranks_above_body_match(db):
    index("body", "居住证办理", "", "需提供社保卡复印件。")
    index("title", "社保卡挂失", "", "")
    index("keywords", "就业登记", "社保卡", "")
    assert keys("社保卡") == ["title", "keywords", "body"]


def test_more_concepts_rank_higher(db):
    index("one", "社保卡申领", "", "")
    index("two", "社保卡补办", "", "")
    assert keys("社保卡 补办") == ["two", "one"]
    assert keys("补办社保卡") == ["two", "one"]


def test_boost_orders_equal_documents(db):
    index("low", "社保卡申领", boost=1.0)
    index("high", "社保卡补领", boost=1.5)
    assert keys("社保卡") == ["high", "low"]


def test_explanation_lists_field_and_via(catalogue):
    hit = search_query(namespace=NS, text="新生儿 出生医学证明").hits[0]
    assert hit.key == "birth"
    fields = {(match.concept, match.field, match.via) for match in hit.matches}
    assert ("出生医学证明", "title", "word") in fields
    assert ("新生儿", "keywords", "word") in fields
    assert ("新生儿", "body", "word") in fields


@pytest.mark.parametrize(
    "query",
    ['" OR 1=1 --', "NEAR(", "*", "'", "AND", "社保卡 AND", '社保卡" OR "', "x:y ^z", "\\", "🙂"],
)
def test_hostile_input_is_harmless(catalogue, query):
    result = search_query(namespace=NS, text=query)
    assert result.total == len(result.hits) or result.total > len(result.hits)
    assert SearchDocument.objects.count() == 5


def test_empty_and_stopword_queries(catalogue):
    for query in ["", "   ", "我想要办理", "？！。", "的了吗"]:
        result = search_query(namespace=NS, text=query)
        assert result.hits == []
        assert result.total == 0


def test_long_query_is_capped(catalogue):
    result = search_query(namespace=NS, text="营业执照" + "的" * 200 + "社保卡")
    assert [concept.original for concept in result.concepts] == ["营业执照"]


def test_delete_removes_from_results(catalogue):
    assert keys("营业执照") == ["license"]
    assert services.search_document_delete(namespace=NS, key="license")
    assert keys("营业执照") == []
    assert not services.search_document_delete(namespace=NS, key="license")
    assert SearchTerm.objects.get(term="营业执照").document_frequency == 0


def test_reindexing_a_document_replaces_it(catalogue):
    index("license", "个体工商户登记")
    assert keys("营业执照") == []
    assert keys("个体工商户") == ["license"]
    assert SearchDocument.objects.filter(namespace=NS, key="license").count() == 1


def test_bulk_replace_and_upsert(catalogue):
    other = "other.ns"
    services.search_documents_bulk_upsert(
        namespace=other, documents=[services.DocumentInput(key="x", title="营业执照变更")]
    )
    documents = (
        services.DocumentInput(
            key=str(number),
            title=f"公积金提取（第{number}类）",
            keywords_text="住房公积金",
            body_text="职工购房可提取公积金。",
            filters={"type": "gg"},
        )
        for number in range(2500)
    )
    assert services.search_documents_bulk_replace(namespace=NS, documents=documents) == 2500
    assert SearchDocument.objects.filter(namespace=NS).count() == 2500
    assert keys("营业执照") == []  # replaced
    assert search_query(namespace=other, text="营业执照").hits[0].key == "x"
    result = search_query(namespace=NS, text="公积金", limit=5, offset=10)
    assert (result.total, result.total_capped) == (200, True)  # "200+"
    small = search_query(namespace=other, text="营业执照")
    assert (small.total, small.total_capped) == (1, False)
    assert len(result.hits) == 5
    assert SearchTerm.objects.get(term="公积金提取").document_frequency == 2500
    assert SearchTerm.objects.get(term="营业执照").document_frequency == 1  # other.ns
    assert keys("gjj")  # initials through the vocabulary built in bulk
    services.search_documents_bulk_upsert(
        namespace=NS,
        documents=[services.DocumentInput(key="7", title="社保卡申领", body_text="社保")],
    )
    assert keys("社保卡") == ["7"]
    assert SearchTerm.objects.get(term="公积金提取").document_frequency == 2499


def test_synonym_validation_messages(admin_user):
    cases = [
        (["身份证"], "至少需要两个不同的词"),
        (["身份证", "身份证 "], "至少需要两个不同的词"),
        (["身份证", "x" * 41], "长度应为1到40个字符"),
        (["身份证", "居民 身份证"], "只能包含汉字、字母和数字"),
        (["身份证", "<script>"], "只能包含汉字、字母和数字"),
        ("身份证", "应为词语列表"),
        (["身份证", 3], "必须是文字"),
    ]
    for terms, message in cases:
        with pytest.raises(ValidationError) as caught:
            services.synonym_group_create(actor=admin_user, terms=terms)
        assert any(message in text for text in caught.value.messages), terms
    assert not SynonymGroup.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="search.").exists()


def test_synonym_services_write_audit_entries(catalogue, admin_user):
    group = services.synonym_group_create(actor=admin_user, terms=["医保", "医疗保险"])
    services.synonym_group_update(
        actor=admin_user, group_id=group.pk, terms=["社保卡", "社会保障卡"], note="卡"
    )

    def vias(query):
        return {m.via for hit in search_query(namespace=NS, text=query).hits for m in hit.matches}

    assert set(keys("社会保障卡")) == {"shebao"}
    assert "synonym" in vias("社会保障卡")
    services.synonym_group_update(actor=admin_user, group_id=group.pk, active=False)
    # still found through its part 社会保障 (a keyword), no longer through the synonym
    assert "synonym" not in vias("社会保障卡")
    services.synonym_group_delete(actor=admin_user, group_id=group.pk)
    entries = list(
        AuditEntry.objects.filter(action__startswith="search.synonym_group.").order_by("seq")
    )
    assert [entry.action for entry in entries] == [
        "search.synonym_group.create",
        "search.synonym_group.update",
        "search.synonym_group.update",
        "search.synonym_group.delete",
    ]
    assert all(entry.actor_id == admin_user.pk for entry in entries)
    assert entries[0].object_id == str(group.pk)
    with pytest.raises(ValidationError, match="不存在"):
        services.synonym_group_delete(actor=admin_user, group_id=group.pk)


def test_permission_is_registered():
    from tongban.platform.access.registry import is_registered

    assert is_registered("search.synonym.manage")


def test_a_compound_query_word_is_found_through_its_parts(db):
    # the benchmark found 公积金提取, 新生儿落户 and 结婚登记 returning nothing: jieba keeps
    # each as one word, which no document held whole
    index("fund", "住房公积金业务", "公积金 提取", "")
    index("loan", "住房公积金贷款", "公积金 贷款", "")
    index("whole", "居民身份证申领", "", "")
    index("part", "身份证挂失", "", "")
    index("birth", "出生医学证明", "新生儿 出生", "")
    index("move", "户口迁移", "迁户口 落户", "")
    index("other", "排污许可证", "环保", "")
    assert text.parts_of("公积金提取") == ("公积金", "提取")
    assert text.parts_of("公积金") == ()
    assert keys("公积金提取") == ["fund", "loan"]  # both parts rank above one part
    assert set(keys("新生儿落户")) == {"birth", "move"}
    assert keys("居民身份证") == ["whole"]  # held whole by a document: not split
    hit = search_query(namespace=NS, text="公积金提取").hits[0]
    assert {(match.term, match.field) for match in hit.matches} >= {
        ("公积金", "title"),
        ("提取", "keywords"),
    }


def test_a_dictionary_word_stays_a_word_when_its_synonym_group_goes():
    # bug: a synonym term jieba's own dictionary knew (执照) was deleted from the tokenizer
    # when the group went (e.g. a demo rolled back), and 营业执照 was found no more
    before = text.tokens_for_index("营业执照办理")
    assert "执照" in before
    text.set_extra_words({"执照", "营业", "办照通"})
    assert "办照通" in text.tokens_for_index("办照通")
    text.set_extra_words(set())
    assert text.tokens_for_index("营业执照办理") == before
