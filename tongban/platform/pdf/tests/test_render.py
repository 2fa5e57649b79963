"""Notices and licences render as A4 PDFs with an embedded Chinese font, readable text."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import subprocess

import pytest

from tongban.platform.pdf import chinese_date, fonts, render_licence, render_notice

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils not installed")


def _text(pdf: bytes, *, layout: bool = True) -> str:
    options = ["-layout"] if layout else []
    result = subprocess.run(
        [PDFTOTEXT, *options, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def _notice(**overrides) -> bytes:
    values = {
        "title": "受理通知书",
        "issuer": "示范市市场监督管理局",
        "number": "示范市监受字〔2026〕12号",
        "recipient": "张三",
        "paragraphs": [
            "你于2026年11月28日提出的食品经营许可证核发（新办）申请，申请材料齐全、"
            "符合法定形式，根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。",
        ],
        "fields": [("办件编号", "SC2026113000012"), ("承诺办结时限", "10个工作日")],
        "date": dt.date(2026, 11, 30),
        "qr_text": "https://zwfw.example.gov.cn/licences/verify/x/",
    }
    values.update(overrides)
    return render_notice(**values)


def test_chinese_date_uses_arabic_digits():
    assert chinese_date(dt.date(2026, 11, 30)) == "2026年11月30日"
    assert chinese_date(dt.date(2027, 1, 5)) == "2027年1月5日"


def test_notice_is_a_pdf_with_the_font_embedded():
    pdf = _notice()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    font = fonts.pdf_font()
    if font.embedded:
        assert b"/FontFile2" in pdf  # TrueType outlines inside the file
    else:
        assert b"/STSong-Light" in pdf


@needs_pdftotext
def test_notice_text_is_extractable_in_chinese():
    text = _text(_notice())
    assert "受理通知书" in text
    assert "示范市监受字〔2026〕12号" in text
    assert "张三：" in text
    assert "2026年11月30日" in text
    assert "SC2026113000012" in text
    assert "承诺办结时限" in text


@needs_pdftotext
def test_text_is_escaped_not_read_as_markup():
    text = _text(_notice(paragraphs=["<b>加粗</b> & <font size=40>大</font>"], qr_text=""))
    assert "<b>加粗</b> & <font size=40>大</font>" in text


@needs_pdftotext
def test_a_long_notice_flows_onto_a_second_page():
    pdf = _notice(paragraphs=["申请材料齐全、符合法定形式，决定予以受理。" * 6] * 12)
    text = _text(pdf)
    assert "\f" in text.rstrip("\f")  # a page break inside the text
    assert "—2—" in text.replace(" ", "")


@needs_pdftotext
def test_licence_face_carries_its_data_and_a_watermark():
    pdf = render_licence(
        name="食品经营许可证",
        number="SPJY-000000010-000001",
        identifier="1.2.156.3005.2.SPJY.11990100000000107X.000001.001.U",
        issuer="示范市市场监督管理局",
        issued_on=dt.date(2026, 11, 30),
        rows=[("经营者名称", "示范市测试科技有限公司"), ("经营场所", "示范市中山路1号")],
        qr_text="https://zwfw.example.gov.cn/licences/verify/x/",
        footer=["签名密钥指纹 ab12"],
        watermark="已撤销",
    )
    text = _text(pdf)
    for expected in (
        "食品经营许可证",
        "SPJY-000000010-000001",
        "示范市测试科技有限公司",
        "2026年11月30日",
        "1.2.156.3005.2.SPJY.11990100000000107X.000001.001.U",
    ):
        assert expected in text, expected
    # the diagonal watermark comes out one character per line
    assert {"已", "撤", "销"} <= set(_text(pdf, layout=False))


def test_without_a_truetype_font_the_cid_font_is_used(monkeypatch, caplog, tmp_path):
    missing = tmp_path / "none.ttf"
    monkeypatch.setattr(fonts, "CANDIDATES", ((str(missing), 0),))
    monkeypatch.setenv(fonts.FONT_SETTING, str(missing))
    fonts.pdf_font_reset()
    try:
        with caplog.at_level(logging.WARNING, logger=fonts.__name__):
            chosen = fonts.pdf_font()
        assert chosen == fonts.PdfFont(name="STSong-Light", path="", embedded=False)
        assert "no embeddable Chinese TrueType font" in caplog.text
        pdf = _notice()
        assert pdf.startswith(b"%PDF-")
        assert b"/FontFile2" not in pdf
        assert b"/STSong-Light" in pdf
    finally:
        monkeypatch.undo()
        fonts.pdf_font_reset()


def test_a_configured_font_file_comes_first(monkeypatch, tmp_path):
    wqy = fonts.CANDIDATES[0][0]
    if not fonts.os.path.isfile(wqy):
        pytest.skip("fonts-wqy-zenhei not installed")
    copy = tmp_path / "my-font.ttc"
    shutil.copyfile(wqy, copy)
    monkeypatch.setenv(fonts.FONT_SETTING, str(copy))
    fonts.pdf_font_reset()
    try:
        assert fonts.pdf_font() == fonts.PdfFont(
            name=fonts.EMBEDDED_FONT_NAME, path=str(copy), embedded=True
        )
    finally:
        monkeypatch.undo()
        fonts.pdf_font_reset()


def test_a_cff_font_is_skipped(monkeypatch, tmp_path):
    """Noto CJK has CFF outlines, which ReportLab cannot embed: it must be passed over."""
    fake = tmp_path / "NotoSansCJK-Regular.otf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)  # the CFF flavour's signature
    monkeypatch.setattr(fonts, "CANDIDATES", ((str(fake), 0),))
    monkeypatch.setenv(fonts.FONT_SETTING, "")
    fonts.pdf_font_reset()
    try:
        assert fonts.pdf_font().embedded is False
    finally:
        monkeypatch.undo()
        fonts.pdf_font_reset()
