"""Administrative e-supervision (行政电子监察): its own projection of every supervised case.

Supervision never reads another application's tables. Everything here is built from
events: the approvals app's ``approvals.case.*`` events (translated in ``handlers.py``) and
the events other systems post to the intake API (``api.py``), both in the one canonical
form of ``schema.py``. ``ReceivedEvent`` is the append-only log of what arrived (one row
per source event id, so a replay is harmless); ``SupervisedCase`` is the projection one
event at a time updates in constant work; ``Alert`` and ``Correction`` are what the rules
raise and what the departments and supervisors do about them (预警纠错).

Rules and scoring weights are versioned rows (``RuleSetVersion``, ``ScoringVersion``): a
change writes a new version and every alert names the version that raised it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.platform.access.services import ScopePaths
from tongban.platform.orgs.models import Department, Unit

# how supervision rows reach the organisation tree (for access.scope_queryset)
SCOPE = ScopePaths(department="department", unit="unit")


class Source(models.Model):
    """A system that feeds supervision. The built-in ``approvals`` source has no key: its
    events arrive through the platform's event outbox, not the intake API."""

    code = models.SlugField(_("系统代码"), max_length=40, unique=True)
    name = models.CharField(_("系统名称"), max_length=100)
    department = models.ForeignKey(
        Department,
        verbose_name=_("主管部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    key_hash = models.CharField(_("接入密钥摘要"), max_length=64, blank=True, editable=False)
    key_prefix = models.CharField(_("密钥前缀"), max_length=16, blank=True, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Business(models.TextChoices):
    APPROVAL = "approval", _("行政审批")
    SERVICE = "service", _("公共服务")
    COMPLAINT = "complaint", _("投诉举报")
    DISCLOSURE = "disclosure", _("依申请公开")
    DOCUMENT = "document", _("公文办理")
    DATA_SHARING = "data_sharing", _("数据共享")
    OTHER = "other", _("其他")


class CaseType(models.TextChoices):
    INSTANT = "instant", _("即办件")
    PROMISED = "promised", _("承诺件")
    JOINT = "joint", _("联办件")


class CaseStatus(models.TextChoices):
    RECEIVED = "received", _("已收件")
    CORRECTION = "correction", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    PAUSED = "paused", _("暂停计时")
    DECIDED = "decided", _("已决定")
    CLOSED = "closed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")


# a case in these states still runs (time-based rules look at it)
RUNNING_STATES = (
    CaseStatus.RECEIVED,
    CaseStatus.CORRECTION,
    CaseStatus.ACCEPTED,
    CaseStatus.PAUSED,
)


class ReceivedEvent(models.Model):
    """One event as it arrived (append-only). ``payload`` is the validated canonical form."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    source_event_id = models.CharField(_("来源事件号"), max_length=100)
    kind = models.CharField(_("事件类型"), max_length=30)
    case_key = models.CharField(_("办件编号"), max_length=64)
    occurred_at = models.DateTimeField(_("发生时间"))
    received_at = models.DateTimeField(_("接收时间"))
    payload = models.JSONField(_("内容"), default=dict)

    class Meta:
        verbose_name = _("监察事件")
        verbose_name_plural = _("监察事件")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_event_id"], name="supervision_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["source", "case_key"], name="supervision_event_case"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.case_key}"


class SupervisedCase(models.Model):
    """The supervision projection of one case of one source (``key`` is the source's case
    number). Dates that matter for counting are kept as dates (``opened_on``,
    ``completed_on``) so an evaluation is one indexed aggregate.

    ``next_check_at`` is the next moment a time-based rule could fire for this case (a
    prompt, the promised or legal deadline, a step's or a pause's limit); the minute sweep
    looks only at rows whose moment has come.
    """

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(_("办件编号"), max_length=64)
    business = models.CharField(
        _("业务类别"), max_length=20, choices=Business.choices, default=Business.APPROVAL
    )
    parent_key = models.CharField(_("主件编号"), max_length=64, blank=True)
    item_code = models.CharField(_("事项编码"), max_length=80, blank=True)
    item_name = models.CharField(_("事项名称"), max_length=200, blank=True)
    case_type = models.CharField(
        _("办件类型"), max_length=10, choices=CaseType.choices, default=CaseType.PROMISED
    )
    department = models.ForeignKey(
        Department, verbose_name=_("承办部门"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("承办科室"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handler = models.CharField(_("承办人"), max_length=150, blank=True, db_index=True)
    status = models.CharField(
        _("状态"), max_length=14, choices=CaseStatus.choices, default=CaseStatus.RECEIVED
    )
    outcome = models.CharField(_("办理结果"), max_length=20, blank=True)

    opened_at = models.DateTimeField(_("收件时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    opened_on = models.DateField(_("收件日期"), null=True, blank=True)
    completed_on = models.DateField(_("办结日期"), null=True, blank=True)

    legal_limit_days = models.PositiveIntegerField(_("法定时限（工作日）"), default=0)
    promised_limit_days = models.PositiveIntegerField(_("承诺时限（工作日）"), default=0)
    promised_deadline = models.DateField(_("承诺期限"), null=True, blank=True)
    legal_deadline = models.DateField(_("法定期限"), null=True, blank=True)
    working_days_used = models.IntegerField(_("已用工作日"), null=True, blank=True)
    paused_days = models.PositiveIntegerField(_("暂停天数"), default=0)
    pause_started_at = models.DateTimeField(_("暂停开始"), null=True, blank=True)
    pause_kind = models.CharField(_("暂停类型"), max_length=40, blank=True)
    pause_allowed_days = models.PositiveIntegerField(_("暂停允许天数"), default=0)
    extension_days = models.PositiveIntegerField(_("延长天数"), default=0)
    correction_count = models.PositiveIntegerField(_("补正次数"), default=0)

    step_name = models.CharField(_("当前环节"), max_length=100, blank=True)
    step_started_at = models.DateTimeField(_("环节开始"), null=True, blank=True)
    step_limit_days = models.PositiveIntegerField(_("环节时限"), default=0)
    step_deadline = models.DateField(_("环节期限"), null=True, blank=True)

    fee_amount = models.DecimalField(
        _("实收费用"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    fee_standard = models.DecimalField(
        _("目录收费标准"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    rating = models.PositiveSmallIntegerField(_("评价等级"), null=True, blank=True)

    is_overdue = models.BooleanField(_("超承诺时限"), default=False)
    is_legally_overdue = models.BooleanField(_("超法定时限"), default=False)
    is_early = models.BooleanField(_("提前办结"), default=False)
    is_data_complete = models.BooleanField(_("数据完整"), default=True)
    # which time-based alerts have fired (so the sweep never raises one twice):
    # "days", "ratio", "yellow", "legal", "step:<name>", "pause:<started>"
    fired = models.JSONField(_("已触发"), default=list, blank=True)
    next_check_at = models.DateTimeField(_("下次检查"), null=True, blank=True)

    event_count = models.PositiveIntegerField(_("事件数"), default=0)
    last_event_at = models.DateTimeField(_("最近事件"), null=True, blank=True)

    class Meta:
        verbose_name = _("被监察办件")
        verbose_name_plural = _("被监察办件")
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="supervision_case_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="supervision_case_due",
                condition=Q(next_check_at__isnull=False),
            ),
            models.Index(fields=["completed_on", "department"], name="supervision_done"),
            models.Index(fields=["opened_on", "department"], name="supervision_opened"),
            models.Index(fields=["status", "department"], name="supervision_status"),
        ]

    def __str__(self) -> str:
        return self.key


class AlertKind(models.TextChoices):
    PROMPT_DAYS = "prompt_days", _("临近承诺时限提醒")
    PROMPT_RATIO = "prompt_ratio", _("已用时限比例提醒")
    YELLOW_CARD = "yellow_card", _("黄牌（超承诺时限）")
    RED_CARD = "red_card", _("红牌（黄牌逾期未整改）")
    LEGAL_BREACH = "legal_breach", _("超法定时限")
    STEP_OVERRUN = "step_overrun", _("环节超时")
    REFUSAL_WITHOUT_REASONS = "refusal_without_reasons", _("不予受理或不予许可未说明理由")
    REPEATED_CORRECTIONS = "repeated_corrections", _("多次要求补正")
    PAUSE_OVERRUN = "pause_overrun", _("暂停计时超期")
    FEE_MISMATCH = "fee_mismatch", _("收费与目录标准不符")
    DECISION_WITHOUT_ACCEPTANCE = "decision_without_acceptance", _("未受理即作出决定")
    TOO_FAST = "too_fast", _("办结过快（疑似体外循环）")
    BAD_RATING = "bad_rating", _("差评")
    MANUAL = "manual", _("人工督办")


class Severity(models.TextChoices):
    PROMPT = "prompt", _("提醒")
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")
    LEGAL = "legal", _("超法定时限")


class Dimension(models.TextChoices):
    """The nine dimensions of the published municipal scoring formula (domain.md §3)."""

    DISCLOSURE = "disclosure", _("政务公开")
    PROCESS = "process", _("流程规范")
    TIMELINESS = "timeliness", _("期限合法")
    FEES = "fees", _("收费合理")
    SATISFACTION = "satisfaction", _("满意度")
    ATTITUDE = "attitude", _("服务态度")
    INSPECTION = "inspection", _("监督检查")
    LIABILITY = "liability", _("法律责任")
    INTEGRITY = "integrity", _("廉洁行政")


class AlertState(models.TextChoices):
    OPEN = "open", _("待纠错")
    CLOSED = "closed", _("已办结")


class Alert(models.Model):
    """A warning, card or violation raised by a rule (or opened by hand by a supervisor).
    ``dedupe_key`` makes each rule fire once per case and subject, however often the
    same events are replayed."""

    case = models.ForeignKey(
        SupervisedCase, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(_("预警类型"), max_length=40, choices=AlertKind.choices)
    severity = models.CharField(_("级别"), max_length=10, choices=Severity.choices)
    dimension = models.CharField(_("考核维度"), max_length=20, choices=Dimension.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("责任科室"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handler = models.CharField(_("承办人"), max_length=150, blank=True)
    raised_at = models.DateTimeField(_("发出时间"), db_index=True)
    occurred_on = models.DateField(_("计入日期"), db_index=True)
    detail = models.TextField(_("说明"), blank=True)
    rule_version = models.ForeignKey(
        "RuleSetVersion",
        verbose_name=_("规则版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    escalated_from = models.ForeignKey(
        "self",
        verbose_name=_("升级自"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=AlertState.choices, default=AlertState.OPEN
    )
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("监察预警")
        verbose_name_plural = _("监察预警")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_on", "department"], name="supervision_alert_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.department_id}"


class CorrectionState(models.TextChoices):
    OPEN = "open", _("待说明/整改")
    EXPLAINED = "explained", _("待审核")
    ACCEPTED = "accepted", _("已采纳")
    ESCALATED = "escalated", _("已升级")


class Correction(models.Model):
    """The correction item (纠错单) every alert opens: the department explains or
    rectifies by ``due_on``; a supervisor accepts (closed) or rejects (open again); an item
    still open after ``due_on`` escalates (a yellow card becomes a red card)."""

    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="correction")
    department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=CorrectionState.choices, default=CorrectionState.OPEN
    )
    due_on = models.DateField(_("整改期限"), db_index=True)
    opened_at = models.DateTimeField(_("发起时间"))
    explained_at = models.DateTimeField(_("说明时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    is_on_time = models.BooleanField(_("按期整改"), null=True, blank=True)

    class Meta:
        verbose_name = _("纠错单")
        verbose_name_plural = _("纠错单")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.alert} → {self.due_on}"


class CorrectionAction(models.TextChoices):
    OPENED = "opened", _("发起")
    EXPLAINED = "explained", _("说明情况")
    RECTIFIED = "rectified", _("整改完成")
    ACCEPTED = "accepted", _("采纳")
    REJECTED = "rejected", _("退回")
    ESCALATED = "escalated", _("升级")
    REMINDED = "reminded", _("催办")


class CorrectionEntry(models.Model):
    """One step in a correction's history; closed items keep all of them."""

    correction = models.ForeignKey(Correction, on_delete=models.CASCADE, related_name="entries")
    action = models.CharField(_("操作"), max_length=12, choices=CorrectionAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("内容"), blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("纠错记录")
        verbose_name_plural = _("纠错记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class ParamsVersion(models.Model):
    """One version of a set of parameters stored as JSON; the highest number is current."""

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    params = models.JSONField(_("参数"))
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("修改时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class RuleSetVersion(ParamsVersion):
    """The rule thresholds (``rules.RuleParams`` as JSON)."""

    class Meta(ParamsVersion.Meta):
        verbose_name = _("监察规则版本")
        verbose_name_plural = _("监察规则版本")


class ScoringVersion(ParamsVersion):
    """The scoring weights and penalties (``rules.ScoringParams`` as JSON)."""

    class Meta(ParamsVersion.Meta):
        verbose_name = _("评分权重版本")
        verbose_name_plural = _("评分权重版本")
