"""Helpers for the documents tests: sample documents, reading PDFs back with poppler."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass

import pytest

from tongban.apps.documents.layout import Attachment, OfficialDocument

PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
PDFSIG = shutil.which("pdfsig")
PT_MM = 25.4 / 72

needs_pdftotext = pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext missing: install poppler-utils (CI does)"
)
needs_pdftoppm = pytest.mark.skipif(
    PDFTOPPM is None, reason="pdftoppm missing: install poppler-utils (CI does)"
)
needs_pdfsig = pytest.mark.skipif(
    PDFSIG is None, reason="pdfsig missing: install poppler-utils (CI does)"
)

# Only Chinese characters and Chinese punctuation that may end or start a line anywhere,
# so every wrapped line of these paragraphs is a full line of 28 characters.
PLAIN = (
    "为深入贯彻落实国务院关于加快推进政务服务标准化规范化便利化的部署要求进一步优化营商"
    "环境提升政务服务效能经市人民政府同意现就有关事项通知如下请各单位认真贯彻执行确保"
    "各项工作落到实处取得实效"
)
BODY = (
    "为深入贯彻落实国务院关于加快推进政务服务标准化规范化便利化的部署要求，进一步优化营商"
    "环境，提升政务服务效能，经市人民政府同意，现就有关事项通知如下。",
    "一、总体要求。坚持以人民为中心的发展思想，围绕企业和群众办事需求，推动政务服务事项"
    "在线办理，实现“一网通办”和“跨省通办”。",
    "（一）明确工作目标。到2026年底，全市政务服务事项网上可办率达到100%，全程网办率达到90%以上。",
    "1.统一事项清单。各区人民政府、市直各单位要对照省级清单，完成本地区本部门事项认领和"
    "要素完善工作。",
    "（1）加强组织领导。各单位主要负责同志要亲自抓，分管负责同志具体抓，确保各项任务按期完成。",
)


def sample_document(**overrides: object) -> OfficialDocument:
    values: dict[str, object] = {
        "issuer": "示范市人民政府",
        "title": "示范市人民政府关于进一步加强政务服务标准化规范化便利化建设的通知",
        "date": dt.date(2026, 11, 30),
        "body": BODY,
        "copy_number": "000123",
        "classification": "秘密",
        "secrecy_period": "1年",
        "urgency": "特急",
        "issuer_code": "示范府",
        "serial": 12,
        "addressees": "各区人民政府，市直各单位",
        "attachments": (Attachment("示范市政务服务事项清单", ("详见附表。",)),),
        "notes": "此件公开发布",
        "cc": ("市委办公室", "市人大常委会办公室", "市政协办公室"),
        "printed_by": "示范市人民政府办公室",
        "printed_on": dt.date(2026, 11, 30),
    }
    values.update(overrides)
    return OfficialDocument(**values)  # type: ignore[arg-type]


@dataclass
class Word:
    page: int  # 1-based
    x_min: float  # mm
    y_min: float
    x_max: float
    y_max: float
    text: str


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')


def pdf_words(pdf: bytes) -> tuple[list[tuple[float, float]], list[Word]]:
    """Page sizes (mm) and every word with its box (mm from the top left)."""
    assert PDFTOTEXT is not None
    result = subprocess.run(
        [PDFTOTEXT, "-bbox", "-", "-"], input=pdf, capture_output=True, check=True
    )
    sizes: list[tuple[float, float]] = []
    words: list[Word] = []
    for line in result.stdout.decode("utf-8").splitlines():
        page = PAGE.search(line)
        if page:
            sizes.append((float(page.group(1)) * PT_MM, float(page.group(2)) * PT_MM))
            continue
        word = WORD.search(line)
        if word:
            box = [float(word.group(i)) * PT_MM for i in range(1, 5)]
            words.append(Word(len(sizes), *box, word.group(5)))
    return sizes, words


def text_lines(words: list[Word], page: int) -> list[list[Word]]:
    """A page's words grouped into lines (same top within 1 mm), top to bottom."""
    rows: dict[int, list[Word]] = defaultdict(list)
    for word in words:
        if word.page == page:
            rows[round(word.y_min)].append(word)
    merged: list[list[Word]] = []
    for key in sorted(rows):
        if merged and abs(merged[-1][0].y_min - rows[key][0].y_min) < 1.0:
            merged[-1].extend(rows[key])
        else:
            merged.append(list(rows[key]))
    return [sorted(row, key=lambda w: w.x_min) for row in merged]


def line_text(row: list[Word]) -> str:
    return "".join(word.text for word in row)
