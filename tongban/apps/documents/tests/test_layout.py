"""The document's elements and the layout numbers of GB/T 9704-2012."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from tongban.apps.documents import layout
from tongban.apps.documents.layout import DocumentKind, OfficialDocument, heading_level
from tongban.apps.documents.rendering import NO_LINE_START, wrap_cells
from tongban.apps.documents.tests.helpers import sample_document


def test_layout_numbers_are_the_standards():
    assert (layout.PAGE_WIDTH_MM, layout.PAGE_HEIGHT_MM) == (210, 297)
    assert (layout.MARGIN_TOP_MM, layout.MARGIN_LEFT_MM) == (37, 28)
    assert (layout.BLOCK_WIDTH_MM, layout.BLOCK_HEIGHT_MM) == (156, 225)
    assert (layout.LINES_PER_PAGE, layout.CHARS_PER_LINE) == (22, 28)
    assert pytest.approx(225) == layout.LINE_PITCH_MM * 22
    assert pytest.approx(156) == layout.CHAR_PITCH_MM * 28
    assert (layout.BODY_PT, layout.TITLE_PT, layout.PAGE_NUMBER_PT) == (16, 22, 14)
    assert layout.PAGE_NUMBER_GAP_MM == 7


def test_document_number_and_marks_per_kind():
    doc = sample_document()
    assert doc.number == "示范府〔2026〕12号"
    assert doc.mark == "示范市人民政府文件"
    assert doc.secrecy == "秘密★1年"
    assert dataclasses.replace(doc, year=2025).number == "示范府〔2025〕12号"
    assert dataclasses.replace(doc, serial=None).number == ""
    letter = dataclasses.replace(doc, kind=DocumentKind.LETTER)
    assert letter.mark == "示范市人民政府"
    order = dataclasses.replace(doc, kind=DocumentKind.ORDER, serial=3)
    assert (order.mark, order.number) == ("示范市人民政府令", "第3号")
    minutes = dataclasses.replace(doc, kind=DocumentKind.MINUTES)
    assert minutes.mark == "示范市人民政府纪要"
    assert not minutes.seal_applies
    assert dataclasses.replace(doc, issuer_mark="示范市人民政府办公室文件").mark.endswith(
        "办公室文件"
    )


def test_the_document_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample_document().title = "改"  # type: ignore[misc]


def test_canonical_content_is_stable_and_covers_every_element():
    doc = sample_document()
    assert doc.canonical_content() == sample_document().canonical_content()
    data = json.loads(doc.canonical_content())
    assert data["number"] == "示范府〔2026〕12号"
    assert data["date"] == "2026-11-30"
    assert data["attachment_notes"] == ["示范市政务服务事项清单"]
    for change in (
        {"title": "另一个标题"},
        {"body": ("改过的正文。",)},
        {"date": dt.date(2026, 12, 1)},
        {"cc": ()},
        {"seal_image": b"png"},
        {"copy_number": "000124"},
    ):
        changed = dataclasses.replace(doc, **change)  # type: ignore[arg-type]
        assert changed.canonical_content() != doc.canonical_content(), change


@pytest.mark.parametrize(
    ("paragraph", "level"),
    [
        ("一、总体要求。", 1),
        ("十二、其他。", 1),
        ("（一）明确目标。", 2),
        ("1.统一清单。", 3),
        ("12．统一清单。", 3),
        ("（1）加强领导。", 4),
        ("为深入贯彻落实……", 0),
    ],
)
def test_heading_levels(paragraph, level):
    assert heading_level(paragraph) == level


def test_date_in_arabic_digits_without_padding():
    assert layout.chinese_date(dt.date(2026, 1, 5)) == "2026年1月5日"


def test_line_breaking_keeps_closing_punctuation_off_line_starts():
    text = "一" * 27 + "二。" + "三" * 10  # the 。 would start line 2
    chars = [(c, "fangsong") for c in text]
    lines = wrap_cells(chars)
    assert [len(part) for _, part, _ in lines] == [27, 12]
    assert lines[0][2] is True  # justified to the full width
    for _, part, _ in lines:
        assert part[0][0] not in NO_LINE_START


def test_line_breaking_fills_28_cells_and_keeps_numbers_whole():
    lines = wrap_cells([(c, "fangsong") for c in "字" * 60], first=4)
    assert [len(part) for _, part, _ in lines] == [26, 28, 6]
    text = "字" * 27 + "2026年"  # "2026" does not fit whole after 27 characters
    lines = wrap_cells([(c, "fangsong") for c in text])
    assert "".join(c for c, _ in lines[1][1]).startswith("2026")


def test_minimal_document_defaults():
    doc = OfficialDocument(issuer="示范市人民政府", title="通知", date=dt.date(2026, 1, 2))
    assert doc.kind == DocumentKind.FILE
    assert doc.signed_by == "示范市人民政府"
    assert doc.seal_applies
    assert doc.number == ""
