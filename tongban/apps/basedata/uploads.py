"""Reading a provider's bulk file (CSV or JSON) into numbered records.

CSV: UTF-8 (with or without BOM), first row the field codes (``id_number,name,…``) or
their Chinese labels; line numbers count the header as line 1. JSON: a list of objects
or ``{"records": [...]}``; line numbers are the records' positions from 1.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tongban.apps.basedata.datasets import Dataset

MAX_BYTES = 5 * 1024 * 1024


def _header_map(dataset: Dataset) -> dict[str, str]:
    names = {dataset.key: dataset.key}
    for spec in dataset.fields:
        names[spec.name] = spec.name
        names[str(spec.label)] = spec.name
    return names


def template_csv(dataset: Dataset) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([dataset.key] + [spec.name for spec in dataset.fields])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def parse(dataset: Dataset, filename: str, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Numbered records; ``ValidationError`` (Chinese) for a file that cannot be read."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_("文件不能超过5MB"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(_("文件应为UTF-8编码")) from error
    lower = filename.lower()
    if lower.endswith(".json"):
        return _parse_json(text)
    if lower.endswith(".csv"):
        return _parse_csv(dataset, text)
    raise ValidationError(_("只接受CSV或JSON文件"))


def _parse_json(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        content = json.loads(text)
    except ValueError as error:
        raise ValidationError(_("JSON格式错误")) from error
    if isinstance(content, dict):
        content = content.get("records")
    if not isinstance(content, list):
        raise ValidationError(_("JSON应为记录列表，或含有records列表的对象"))
    return [(index, record) for index, record in enumerate(content, 1)]


def _parse_csv(dataset: Dataset, text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        return _read_csv(dataset, text)
    except csv.Error as error:
        raise ValidationError(_("CSV格式错误")) from error


def _read_csv(dataset: Dataset, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as error:
        raise ValidationError(_("文件是空的")) from error
    names = _header_map(dataset)
    columns: list[str] = []
    unknown = []
    for title in header:
        name = names.get(title.strip())
        if name is None:
            unknown.append(title.strip())
        columns.append(name or title.strip())
    if unknown:
        raise ValidationError(_("第1行：未知的列“%(columns)s”") % {"columns": "、".join(unknown)})
    if dataset.key not in columns:
        raise ValidationError(_("第1行：缺少记录标识列“%(key)s”") % {"key": dataset.key})
    records: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            records.append((line, {"__columns__": len(row)}))
            continue
        # an empty cell leaves the field alone; a provider clears a field through the API
        values = dict(zip(columns, row, strict=True))
        records.append(
            (
                line,
                {
                    name: cell
                    for name, cell in values.items()
                    if cell.strip() or name == dataset.key
                },
            )
        )
    return records
