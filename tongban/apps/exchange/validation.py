"""Whole-file validation of an uploaded dataset: CSV with the declared header, or a JSON
array of objects with exactly the declared keys. Nothing is stored until it passes."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tongban.apps.exchange.models import DataFormat

MAX_ERRORS = 10


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": _("文件编码无法识别，请使用 UTF-8 或 GB 18030 编码")})


def _fail(errors: list[str]) -> None:
    if errors:
        raise ValidationError({"file": errors[:MAX_ERRORS]})


def _csv_count(text: str, columns: list[str]) -> int:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError({"file": _("CSV 文件没有表头")})
        header = [name.strip() for name in header]
        if header != columns:
            raise ValidationError(
                {
                    "file": _("CSV 表头与任务声明的字段不一致：应为 %(expected)s，实为 %(found)s")
                    % {"expected": ",".join(columns), "found": ",".join(header)}
                }
            )
        errors: list[str] = []
        count = 0
        for row in reader:
            if not row:  # a blank line
                continue
            count += 1
            if len(row) != len(columns):
                errors.append(
                    _("第%(line)s行有%(found)s列，应为%(expected)s列")
                    % {"line": reader.line_num, "found": len(row), "expected": len(columns)}
                )
    except csv.Error as error:
        raise ValidationError({"file": _("CSV 格式错误：%(error)s") % {"error": error}}) from None
    _fail(errors)
    return count


def _json_count(text: str, columns: list[str]) -> int:
    try:
        data: Any = json.loads(text)
    except ValueError as error:
        raise ValidationError({"file": _("JSON 格式错误：%(error)s") % {"error": error}}) from None
    if not isinstance(data, list):
        raise ValidationError({"file": _("JSON 数据集应为对象数组")})
    expected = set(columns)
    errors: list[str] = []
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            errors.append(_("第%(n)s条记录不是对象") % {"n": index})
            continue
        keys = set(record)
        if expected and keys != expected:
            missing = "、".join(sorted(expected - keys))
            extra = "、".join(sorted(keys - expected))
            errors.append(
                _("第%(n)s条记录字段不符（缺少：%(missing)s；多出：%(extra)s）")
                % {"n": index, "missing": missing or "—", "extra": extra or "—"}
            )
    _fail(errors)
    return len(data)


def dataset_validate(*, raw: bytes, data_format: str, columns: list[str]) -> int:
    """The number of records in ``raw``; raises ``ValidationError`` (key ``file``)."""
    text = _decode(raw)
    if data_format == DataFormat.CSV:
        return _csv_count(text, columns)
    return _json_count(text, columns)
