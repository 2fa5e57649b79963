"""Rendered pages measured against the GB/T 9704-2012 layout numbers (visual test).

Text positions come from poppler's ``pdftotext -bbox``; colours from ``pdftoppm`` pages
read with Pillow. Positions are in millimetres from the page's top left corner.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import time
from collections import Counter

import pytest

from tongban.apps.documents import layout, rendering
from tongban.apps.documents.layout import DocumentKind
from tongban.apps.documents.rendering import document_fonts, render_document
from tongban.apps.documents.tests.helpers import (
    PDFTOPPM,
    PDFTOTEXT,
    PLAIN,
    line_text,
    needs_pdftoppm,
    needs_pdftotext,
    pdf_words,
    sample_document,
    text_lines,
)

TOLERANCE = 1.0  # mm, as the standard allows for the margins


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render_document(sample_document())


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    doc = sample_document(body=(PLAIN * 3,) * 12, attachments=(), cc=(), notes="")
    return render_document(doc)


def _page_image(pdf: bytes, page: int, dpi: int = 50):
    from PIL import Image

    assert PDFTOPPM is not None
    result = subprocess.run(
        [PDFTOPPM, "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    )
    return Image.open(io.BytesIO(result.stdout)).convert("RGB")


def _is_red(pixel: tuple[int, int, int]) -> bool:
    red, green, blue = pixel  # anti-aliased edges of red on white are pink: still red
    return red > 150 and red - green > 60 and red - blue > 60


def _red_share(image, box_mm: tuple[float, float, float, float], dpi: int = 50) -> float:
    """Share of red pixels among the non-white ones inside the box (mm)."""
    scale = dpi / 25.4
    left, top, right, bottom = (round(v * scale) for v in box_mm)
    inked = red = 0
    for x in range(left, right):
        for y in range(top, bottom):
            pixel = image.getpixel((x, y))
            if min(pixel) < 200:
                inked += 1
                red += _is_red(pixel)
    return red / inked if inked else 0.0


def test_pdf_is_a4_with_embedded_fonts(sample_pdf):
    assert sample_pdf.startswith(b"%PDF")
    assert b"/FontFile2" in sample_pdf  # TrueType outlines embedded


@needs_pdftotext
def test_page_size_is_a4(sample_pdf):
    sizes, _ = pdf_words(sample_pdf)
    assert len(sizes) == 3  # body, attachment, and the imprint on the attachment page
    for width, height in sizes:
        assert width == pytest.approx(210, abs=0.5)
        assert height == pytest.approx(297, abs=0.5)


@needs_pdftotext
def test_header_elements_are_placed_per_the_standard(sample_pdf):
    _, words = pdf_words(sample_pdf)
    lines = text_lines(words, 1)
    copy, secrecy, urgency = lines[0], lines[1], lines[2]
    assert line_text(copy) == "000123"
    # 份号 at the top left corner of the text block: 37 mm from the top, 28 mm from the left
    assert copy[0].y_min == pytest.approx(layout.MARGIN_TOP_MM, abs=TOLERANCE)
    assert copy[0].x_min == pytest.approx(layout.MARGIN_LEFT_MM, abs=TOLERANCE)
    assert line_text(secrecy) == "秘密★1年"
    assert line_text(urgency) == "特急"
    mark = next(row for row in lines if line_text(row) == "示范市人民政府文件")
    # mark top 35 mm below the text block top, centred
    assert mark[0].y_min == pytest.approx(37 + 35, abs=TOLERANCE)
    centre = (mark[0].x_min + mark[-1].x_max) / 2
    assert centre == pytest.approx(105, abs=TOLERANCE)
    assert mark[-1].x_max - mark[0].x_min <= 156
    number = next(row for row in lines if "〔2026〕12号" in line_text(row))
    # centred (poppler's box of the final 号 varies a little between fonts)
    assert (number[0].x_min + number[-1].x_max) / 2 == pytest.approx(105, abs=1.5)
    assert number[0].y_min > mark[0].y_max + 2 * layout.LINE_PITCH_MM - TOLERANCE


@needs_pdftotext
def test_title_addressees_and_body_sit_on_the_grid(sample_pdf):
    _, words = pdf_words(sample_pdf)
    lines = text_lines(words, 1)
    title = [row for row in lines if 7 < row[0].y_max - row[0].y_min < 10]  # 2号 = 7.8 mm
    assert line_text(title[0]) + line_text(title[1]) == sample_document().title
    for row in title:
        assert (row[0].x_min + row[-1].x_max) / 2 == pytest.approx(105, abs=TOLERANCE)
    addressees = next(row for row in lines if line_text(row).startswith("各区人民政府"))
    assert addressees[0].x_min == pytest.approx(28, abs=TOLERANCE)  # 顶格
    first_body = lines[lines.index(addressees) + 1]
    # paragraphs start two characters in; the next line returns to the left edge
    assert first_body[0].x_min == pytest.approx(28 + 2 * layout.CHAR_PITCH_MM, abs=TOLERANCE)
    second = lines[lines.index(addressees) + 2]
    assert second[0].x_min == pytest.approx(28, abs=TOLERANCE)
    assert second[-1].x_max == pytest.approx(28 + 156, abs=TOLERANCE)
    # every body line is on the 22-line grid
    for row in lines[lines.index(addressees) :]:
        if row[0].y_min > layout.BLOCK_BOTTOM_MM:
            break
        offset = (row[0].y_min - layout.MARGIN_TOP_MM) / layout.LINE_PITCH_MM
        assert abs(offset - round(offset)) * layout.LINE_PITCH_MM < TOLERANCE, line_text(row)


@needs_pdftotext
def test_full_pages_have_22_lines_of_28_characters(long_pdf):
    sizes, words = pdf_words(long_pdf)
    assert len(sizes) >= 3
    lines = [row for row in text_lines(words, 2) if row[0].y_min < layout.BLOCK_BOTTOM_MM]
    assert len(lines) == 22
    assert lines[0][0].y_min == pytest.approx(layout.MARGIN_TOP_MM, abs=TOLERANCE)
    assert lines[-1][0].y_max <= layout.BLOCK_BOTTOM_MM + TOLERANCE
    pitches = [b[0].y_min - a[0].y_min for a, b in zip(lines, lines[1:], strict=False)]
    for pitch in pitches:
        assert pitch == pytest.approx(layout.LINE_PITCH_MM, abs=0.2)
    counts = Counter(len(line_text(row)) for row in lines)
    full = [row for row in lines if row[0].x_min < 28 + TOLERANCE]
    assert counts.most_common(1)[0][0] == 28
    for row in full:
        if len(line_text(row)) == 28:
            assert row[0].x_min == pytest.approx(28, abs=TOLERANCE)
            assert row[-1].x_max == pytest.approx(184, abs=TOLERANCE)
    assert max(counts) <= 28


@needs_pdftotext
def test_page_numbers_alternate_right_and_left(long_pdf):
    sizes, words = pdf_words(long_pdf)
    one_char = layout.PAGE_NUMBER_PT * 25.4 / 72
    for page in range(1, len(sizes) + 1):
        footer = [w for w in words if w.page == page and w.y_min > layout.BLOCK_BOTTOM_MM]
        assert "".join(w.text for w in footer) == f"—{page}—"
        left = min(w.x_min for w in footer)
        right = max(w.x_max for w in footer)
        # 一字线 top edge 7 mm below the text block
        assert footer[0].y_min == pytest.approx(
            layout.BLOCK_BOTTOM_MM + layout.PAGE_NUMBER_GAP_MM, abs=TOLERANCE
        )
        if page % 2:
            assert right == pytest.approx(184 - one_char, abs=TOLERANCE)  # 单页码居右空一字
        else:
            assert left == pytest.approx(28 + one_char, abs=TOLERANCE)  # 双页码居左空一字


@needs_pdftotext
def test_signature_date_attachment_and_imprint(sample_pdf):
    _, words = pdf_words(sample_pdf)
    page2 = text_lines(words, 2)
    texts = [line_text(row) for row in page2]
    assert "附件：示范市政务服务事项清单" in texts
    date = next(row for row in page2 if line_text(row) == "2026年11月30日")
    # sealed: the date 右空四字, the signature centred over it
    assert date[-1].x_max == pytest.approx(184 - 4 * layout.CHAR_PITCH_MM, abs=TOLERANCE)
    signature = page2[page2.index(date) - 1]
    assert line_text(signature) == "示范市人民政府"
    date_centre = (date[0].x_min + date[-1].x_max) / 2
    sig_centre = (signature[0].x_min + signature[-1].x_max) / 2
    assert sig_centre == pytest.approx(date_centre, abs=TOLERANCE)
    assert "（此件公开发布）" in texts
    page3 = text_lines(words, 3)
    assert line_text(page3[0]) == "附件"
    assert "示范市政务服务事项清单" in [line_text(row) for row in page3]
    imprint = [row for row in page3 if line_text(row).startswith(("抄送", "示范市人民政府办公室"))]
    assert line_text(imprint[0]).startswith("抄送：市委办公室，")
    printed = imprint[-1]
    assert "2026年11月30日印发" in line_text(printed)
    assert printed[-1].y_max <= layout.BLOCK_BOTTOM_MM + TOLERANCE  # last line of the block
    assert printed[-1].y_max > layout.BLOCK_BOTTOM_MM - 10


@needs_pdftotext
@needs_pdftoppm
def test_issuer_mark_rule_and_seal_are_red_and_the_body_black(sample_pdf):
    page1 = _page_image(sample_pdf, 1)
    assert _red_share(page1, (30, 72, 180, 90)) > 0.9  # the issuer mark
    _, words = pdf_words(sample_pdf)
    number = next(w for w in words if w.page == 1 and "12号" in w.text)
    rule_y = number.y_max + layout.RULE_BELOW_NUMBER_MM
    assert _red_share(page1, (30, rule_y - 1.5, 180, rule_y + 1.5)) > 0.9
    assert _red_share(page1, (28, 190, 184, 250)) < 0.02  # body text
    page2 = _page_image(sample_pdf, 2)
    date = next(w for w in words if w.page == 2 and w.text == "2026年11月30日")
    centre_x = (date.x_min + date.x_max) / 2
    ring = (centre_x - 21, date.y_min - 28, centre_x + 21, date.y_min - 18)  # upper arc
    assert _red_share(page2, ring) > 0.8
    page3 = _page_image(sample_pdf, 3)
    assert _red_share(page3, (28, 200, 184, 262)) < 0.02  # the imprint is black


@needs_pdftotext
def test_upward_document_has_signers_and_left_number():
    doc = sample_document(signers=("张三", "李四", "王五"), copy_number="", classification="")
    _, words = pdf_words(render_document(doc))
    lines = text_lines(words, 1)
    first = next(row for row in lines if line_text(row).startswith("签发人："))
    assert line_text(first) == "签发人：张三李四"
    assert first[-1].x_max == pytest.approx(184 - layout.CHAR_PITCH_MM, abs=TOLERANCE)
    number = next(row for row in lines if "〔2026〕12号" in line_text(row))
    assert number[0].x_min == pytest.approx(28 + layout.CHAR_PITCH_MM, abs=TOLERANCE)
    second = next(w for w in words if w.page == 1 and w.text == "王五")
    assert second.y_min == pytest.approx(number[0].y_min, abs=TOLERANCE)  # number on the last row
    first_name = next(w for w in first if "张三" in w.text or w.text.startswith("张"))
    names_left = first_name.x_min + (4 * layout.CHAR_PITCH_MM if "签发人" in first_name.text else 0)
    assert second.x_min == pytest.approx(names_left, abs=TOLERANCE)  # aligned under 张三


@needs_pdftotext
@needs_pdftoppm
def test_letter_format():
    doc = sample_document(kind=DocumentKind.LETTER, issuer_code="示范府函", attachments=())
    pdf = render_document(doc)
    sizes, words = pdf_words(pdf)
    lines = text_lines(words, 1)
    mark = next(row for row in lines if line_text(row) == "示范市人民政府")
    assert mark[0].y_min == pytest.approx(layout.LETTER_MARK_TOP_MM, abs=TOLERANCE)
    number = next(w for w in words if w.page == 1 and "示范府函〔2026〕12号" in w.text)
    assert number.x_max == pytest.approx(184, abs=TOLERANCE)  # 发文字号 at the right edge
    assert not [w for w in words if w.page == 1 and w.y_min > layout.BLOCK_BOTTOM_MM]
    page = _page_image(pdf, 1)
    bottom_rule = 297 - layout.LETTER_BOTTOM_RULE_MM
    assert _red_share(page, (25, bottom_rule - 3, 185, bottom_rule + 1)) > 0.9
    assert "印发" not in "".join(w.text for w in words)  # letters carry no 印发 line


@needs_pdftotext
def test_order_and_minutes_formats():
    order = sample_document(
        kind=DocumentKind.ORDER, signers=("张三",), signer_title="市长", attachments=(), urgency=""
    )
    _, words = pdf_words(render_document(order))
    texts = [line_text(row) for row in text_lines(words, 1)]
    assert "示范市人民政府令" in texts
    assert "第12号" in texts
    mark = next(w for w in words if w.text == "示范市人民政府令")
    assert mark.y_min == pytest.approx(37 + layout.ORDER_MARK_OFFSET_MM, abs=TOLERANCE)
    assert any("市长" in line_text(row) for p in (1, 2) for row in text_lines(words, p))

    minutes = sample_document(
        kind=DocumentKind.MINUTES,
        attendees=("张三", "李四"),
        absentees=("王五",),
        attachments=(),
    )
    _, words = pdf_words(render_document(minutes))
    all_text = "".join(w.text for w in words)
    assert "示范市人民政府纪要" in all_text
    assert "出席：张三，李四" in all_text
    assert "请假：王五" in all_text


def test_licensed_fonts_are_preferred_when_installed(monkeypatch):
    """An installation with 仿宋_GB2312 / 方正小标宋简体 gets them instead of open fonts."""
    fonts = document_fonts()
    body_file = (fonts.fangsong.path, fonts.fangsong.index)
    if not fonts.fangsong.path:
        pytest.skip("no embeddable Chinese TrueType font on this machine")
    fake = dict(rendering.installed_families())
    fake["仿宋_gb2312"] = body_file
    fake["方正小标宋简体"] = body_file
    rendering.document_fonts_reset()
    monkeypatch.setattr(rendering, "installed_families", lambda: fake)
    try:
        chosen = rendering.document_fonts()
        assert (chosen.fangsong.family, chosen.fangsong.licensed) == ("仿宋_GB2312", True)
        assert chosen.xiaobiaosong.family == "方正小标宋简体"
        assert not chosen.xiaobiaosong.emboldened
        assert render_document(sample_document()).startswith(b"%PDF")
    finally:
        monkeypatch.undo()
        rendering.document_fonts_reset()


def test_open_fallback_fonts_are_reported():
    fonts = document_fonts()
    for role in rendering.ROLES:
        font = fonts.role(role)
        assert font.name
        if not font.licensed:
            assert font.family in rendering.OPEN_FAMILIES[role] or not font.path


def test_ten_pages_render_time(capsys):
    """Not asserted (machines differ); printed for the benchmark figure render_10_pages_s."""
    document_fonts()  # fonts load once per process
    doc = sample_document(body=(PLAIN * 3,) * 19, attachments=(), notes="")
    render_document(doc)  # the seal image and glyph widths are cached after the first
    started, started_cpu = time.perf_counter(), time.process_time()
    pdf = render_document(doc)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    pages = len(pdf_words(pdf)[0]) if PDFTOTEXT else "?"
    with capsys.disabled():
        print(f"\nrender_10_pages_s={elapsed:.3f} wall, {cpu:.3f} CPU ({pages} pages; target 2)")
    assert elapsed < 30


def test_rendering_is_deterministic_apart_from_timestamps():
    doc = dataclasses.replace(sample_document(), attachments=())
    first, second = render_document(doc), render_document(doc)
    assert abs(len(first) - len(second)) < 64
