"""The one canonical form of a supervised event, whatever system sends it.

Approvals' events are translated into it (``handlers.py``); other systems post it to the
intake API. Each event is validated on its own: ``event_parse`` returns an ``IntakeEvent``
or raises ``EventInvalid`` with a code and a message in the caller's language, so a batch
keeps its valid events and reports the others one by one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

KINDS = (
    "opened",  # 收件: the case exists (department required)
    "correction_requested",  # 补正告知 (counts towards 一次性告知)
    "correction_answered",
    "accepted",  # 受理: the clock starts
    "not_accepted",  # 不予受理 (reasons required, or an alert)
    "paused",  # 暂停计时 (special procedure, hearing, expert review …)
    "resumed",
    "extended",  # 延长期限 (extension_days)
    "step_started",
    "step_finished",
    "decided",  # 决定 (outcome; a refusal needs reasons)
    "closed",  # 办结
    "delivered",  # 送达
    "withdrawn",
    "fee_charged",  # 收费 (fee_amount; fee_standard if the source knows it)
    "rated",  # 好差评 (rating 1–5)
)
EventKind = Literal[
    "opened",
    "correction_requested",
    "correction_answered",
    "accepted",
    "not_accepted",
    "paused",
    "resumed",
    "extended",
    "step_started",
    "step_finished",
    "decided",
    "closed",
    "delivered",
    "withdrawn",
    "fee_charged",
    "rated",
]
BUSINESS = ("approval", "service", "complaint", "disclosure", "document", "data_sharing", "other")
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class IntakeEvent(BaseModel):
    """One event. Only ``id``, ``kind``, ``case`` and ``occurred_at`` are always required;
    ``opened`` also needs ``department``. Later events may repeat any field: the latest
    value wins (a source that sends deadlines keeps them; otherwise supervision computes
    them from the working-day calendar)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(
        min_length=1, max_length=100, description="来源系统内唯一的事件编号（重放无害）"
    )
    kind: EventKind
    case: str = Field(min_length=1, max_length=64, description="来源系统的办件编号")
    occurred_at: dt.datetime = Field(description="发生时间（ISO 8601，须带时区）")
    business: Literal[
        "approval", "service", "complaint", "disclosure", "document", "data_sharing", "other"
    ] = "approval"
    parent: str = Field("", max_length=64, description="联办件的主件编号")
    department: str = Field("", max_length=60, description="承办部门代码")
    unit: str = Field("", max_length=60, description="承办科室代码")
    handler: str = Field("", max_length=150, description="承办人（用户名或工号）")
    item_code: str = Field("", max_length=80)
    item_name: str = Field("", max_length=200)
    case_type: Literal["instant", "promised", "joint", ""] = ""
    legal_limit_days: int | None = Field(None, ge=0, le=3650)
    promised_limit_days: int | None = Field(None, ge=0, le=3650)
    promised_deadline: dt.date | None = None
    legal_deadline: dt.date | None = None
    working_days_used: int | None = Field(None, ge=0, le=36500)
    step_name: str = Field("", max_length=100)
    step_limit_days: int | None = Field(None, ge=0, le=3650)
    step_days_used: int | None = Field(None, ge=0, le=36500)
    outcome: Literal["approved", "refused", "partial", "not_accepted", "other", ""] = ""
    reasons: str = Field("", max_length=4000)
    pause_kind: str = Field("", max_length=40)
    pause_planned_days: int | None = Field(None, ge=0, le=3650)
    extension_days: int | None = Field(None, ge=0, le=3650)
    fee_amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    fee_standard: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    rating: int | None = Field(None, ge=1, le=5)
    detail: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> IntakeEvent:
        if self.occurred_at.tzinfo is None:
            raise ValueError("naive_datetime")
        if not EARLIEST <= self.occurred_at <= timezone.now() + dt.timedelta(days=1):
            raise ValueError("occurred_out_of_range")
        if self.kind == "opened" and not self.department:
            raise ValueError("department_required")
        if self.kind in ("step_started", "step_finished") and not self.step_name:
            raise ValueError("step_required")
        if self.kind == "fee_charged" and self.fee_amount is None:
            raise ValueError("fee_required")
        if self.kind == "rated" and self.rating is None:
            raise ValueError("rating_required")
        if self.kind == "extended" and not self.extension_days:
            raise ValueError("extension_required")
        if (
            self.legal_limit_days
            and self.promised_limit_days is not None
            and self.promised_limit_days > self.legal_limit_days
        ):
            raise ValueError("promise_beyond_legal")
        return self


class EventInvalid(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _messages() -> dict[str, str]:
    return {
        "naive_datetime": _("发生时间须带时区"),
        "occurred_out_of_range": _("发生时间超出范围（2000年以后且不晚于明天）"),
        "department_required": _("收件事件须填写承办部门"),
        "step_required": _("环节事件须填写环节名称"),
        "fee_required": _("收费事件须填写实收金额"),
        "rating_required": _("评价事件须填写评价等级（1–5）"),
        "extension_required": _("延期事件须填写延长天数"),
        "promise_beyond_legal": _("承诺时限不得长于法定时限"),
    }


def _field_message(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error.get("loc", ())) or "-"
    kind = error.get("type", "")
    reasons = {
        "missing": _("必填"),
        "extra_forbidden": _("不是事件的字段"),
        "literal_error": _("取值无效"),
        "string_too_long": _("过长"),
        "string_too_short": _("不能为空"),
        "greater_than_equal": _("不能小于下限"),
        "less_than_equal": _("超过上限"),
        "int_parsing": _("应为整数"),
        "int_from_float": _("应为整数"),
        "decimal_parsing": _("应为金额"),
        "decimal_max_places": _("最多两位小数"),
        "decimal_max_digits": _("金额过大"),
        "datetime_parsing": _("应为ISO 8601时间"),
        "datetime_from_date_parsing": _("应为ISO 8601时间"),
        "date_parsing": _("应为日期（YYYY-MM-DD）"),
        "date_from_datetime_parsing": _("应为日期（YYYY-MM-DD）"),
        "string_type": _("应为文本"),
    }
    reason = reasons.get(kind, _("格式不正确"))
    return _("字段“%(field)s”%(reason)s") % {"field": field, "reason": reason}


def event_parse(raw: Any) -> IntakeEvent:
    """Validate one raw event (a dict from JSON); raise ``EventInvalid`` on any problem."""
    if not isinstance(raw, dict):
        raise EventInvalid("not_an_object", _("事件应为JSON对象"))
    try:
        return IntakeEvent.model_validate(raw)
    except ValidationError as error:
        errors = error.errors()
        for item in errors:
            code = str(item.get("msg", "")).removeprefix("Value error, ")
            if code in _messages():
                raise EventInvalid(code, _messages()[code]) from None
        message = "；".join(_field_message(dict(item)) for item in errors[:5])
        raise EventInvalid("invalid_field", message) from None
