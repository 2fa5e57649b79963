"""Cases (办件) from submission to delivery, with their materials, timeline and clock data.

A case is opened against one published catalogue *version* and copies what it needs from
it at submission (name, department, case type, limits, materials, special procedures), so
a later version of the item never changes a running case. The clock is not stored: it is
computed from ``accepted_at``, the pause and correction intervals and the approved
extensions (see ``clock.py`` and docs/decisions/0013-cases-and-clock.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.platform.crypto.fields import EncryptedTextField


class CaseState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已收件")
    CORRECTION = "correction", _("待补正")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    ACCEPTED = "accepted", _("已受理")
    IN_REVIEW = "in_review", _("审查中")
    DECIDED = "decided", _("已决定")
    CLOSED = "closed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")
    RETURNED = "returned", _("已退件")


# the clock runs in these states (it starts at acceptance and stops at the decision)
RUNNING_STATES = (CaseState.ACCEPTED, CaseState.IN_REVIEW)
# before acceptance: the window may still accept, refuse, ask for correction or send back
RECEIVED_STATES = (CaseState.SUBMITTED, CaseState.CORRECTION)
# nothing happens to these any more (except rating a closed or delivered case)
FINAL_STATES = (
    CaseState.NOT_ACCEPTED,
    CaseState.DELIVERED,
    CaseState.WITHDRAWN,
    CaseState.RETURNED,
)
# an applicant may withdraw before the decision
WITHDRAWABLE_STATES = (
    CaseState.DRAFT,
    CaseState.SUBMITTED,
    CaseState.CORRECTION,
    CaseState.ACCEPTED,
    CaseState.IN_REVIEW,
)


class CaseType(models.TextChoices):
    """Copied from the catalogue version (same codes)."""

    INSTANT = "instant", _("即办件")
    PROMISED = "promised", _("承诺件")
    JOINT = "joint", _("联办件")


class ApplicantKind(models.TextChoices):
    NATURAL_PERSON = "natural_person", _("自然人")
    LEGAL_PERSON = "legal_person", _("法人和其他组织")


class Outcome(models.TextChoices):
    NONE = "", _("未决定")
    APPROVED = "approved", _("准予")
    REFUSED = "refused", _("不予许可")
    PARTIAL = "partial", _("部分准予")


class DeliveryMethod(models.TextChoices):
    COLLECT = "collect", _("窗口领取")
    POST = "post", _("邮寄送达")
    ONLINE = "online", _("网上送达")


class CaseCounter(models.Model):
    """The last case serial of one area on one day: the row lock makes numbers gapless."""

    area_code = models.CharField(max_length=12)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("办件流水号")
        verbose_name_plural = _("办件流水号")
        constraints = [
            models.UniqueConstraint(fields=["area_code", "day"], name="approvals_counter_day")
        ]

    def __str__(self) -> str:
        return f"{self.area_code} {self.day} {self.last}"


class Case(models.Model):
    """One application (办件). A joint application is a parent with one child per item."""

    number = models.CharField(_("办件编号"), max_length=32, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=CaseState.choices, default=CaseState.DRAFT
    )
    # what was applied for: the catalogue version, and what it said then (snapshot)
    item_id = models.PositiveBigIntegerField(_("事项"), null=True, blank=True)
    item_version_id = models.PositiveBigIntegerField(_("事项版本"), null=True, blank=True)
    bundle_code = models.CharField(_("一件事"), max_length=40, blank=True)
    item_name = models.CharField(_("事项名称"), max_length=200)
    implementation_code = models.CharField(_("实施编码"), max_length=80, blank=True)
    item_type = models.CharField(_("事项类型"), max_length=32, blank=True)
    result_name = models.CharField(_("结果名称"), max_length=200, blank=True)
    case_type = models.CharField(_("办件类型"), max_length=16, choices=CaseType.choices)
    legal_limit_days = models.PositiveIntegerField(_("法定办结时限（工作日）"))
    promised_limit_days = models.PositiveIntegerField(_("承诺办结时限（工作日）"))
    special_procedures = models.JSONField(_("可适用的特别程序"), default=list, blank=True)
    process_steps = models.JSONField(_("办理流程"), default=list, blank=True)
    # who handles it
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("实施机关"),
        on_delete=models.PROTECT,
        related_name="approval_cases",
    )
    department_code = models.CharField(_("部门编码"), max_length=32)
    department_name = models.CharField(_("实施机关名称"), max_length=100)
    department_path = models.CharField(max_length=255, db_index=True, editable=False)
    division_path = models.CharField(max_length=255, db_index=True, editable=False)
    # joint cases (联办件): the parent carries the joint limit; children their own
    parent = models.ForeignKey(
        "self",
        verbose_name=_("联办主件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    is_joint = models.BooleanField(_("联办件"), default=False)
    # the applicant: a signed-in user, possibly an agent acting for a legal person
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请账号"),
        on_delete=models.PROTECT,
        related_name="approval_cases",
    )
    applicant_kind = models.CharField(_("申请人类型"), max_length=16, choices=ApplicantKind.choices)
    legal_person = models.ForeignKey(
        "accounts.LegalPerson",
        verbose_name=_("申请法人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_cases",
    )
    applicant_name = models.CharField(_("申请人"), max_length=200)
    agent_name = models.CharField(_("经办人"), max_length=100, blank=True)
    contact_phone = EncryptedTextField(
        _("联系电话"), purpose="approvals.case.contact_phone", null=True, blank=True
    )
    contact_phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=80, blank=True)
    # the process
    process_instance_id = models.PositiveBigIntegerField(_("流程实例"), null=True, blank=True)
    # when things happened
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("收件时间"), null=True, blank=True, db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True, db_index=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    # the result
    outcome = models.CharField(
        _("办理结果"), max_length=16, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )
    decision_reasons = models.TextField(_("决定理由"), blank=True)
    appeal_rights = models.TextField(_("救济途径"), blank=True)
    end_reason = models.TextField(_("不予受理、撤回或退件理由"), blank=True)
    delivery_method = models.CharField(
        _("送达方式"), max_length=16, choices=DeliveryMethod.choices, blank=True
    )
    licence_identifiers = models.JSONField(_("电子证照标识"), default=list, blank=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="approvals_case_number"
            ),
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="approvals_case_idempotency",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | ~Q(number=""), name="approvals_number_when_submitted"
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state"], name="approvals_case_dept_state"),
            models.Index(fields=["applicant", "-created_at"], name="approvals_case_applicant"),
            models.Index(fields=["legal_person", "-created_at"], name="approvals_case_legal"),
            models.Index(fields=["division_path", "state"], name="approvals_case_division"),
        ]

    def __str__(self) -> str:
        return f"{self.number or _('草稿')} {self.item_name}"

    @property
    def is_child(self) -> bool:
        return self.parent_id is not None


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人上传")
    SHARED = "shared", _("共享数据获取")
    ELICENCE = "elicence", _("电子证照获取")


class CaseMaterial(models.Model):
    """One material of the version's list, as handed in (file, or a shared-data reference)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=200)
    is_required = models.BooleanField(_("必要"), default=True)
    source = models.CharField(
        _("来源"), max_length=16, choices=MaterialSource.choices, default=MaterialSource.APPLICANT
    )
    file = models.ForeignKey(
        "files.StoredFile",
        verbose_name=_("文件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reference = models.CharField(
        _("共享数据或证照标识"), max_length=200, blank=True
    )  # placeholder until the data-sharing issue lands
    round = models.PositiveSmallIntegerField(_("提交轮次"), default=0)
    is_current = models.BooleanField(_("现行"), default=True)
    is_checked = models.BooleanField(_("已核验"), default=False)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核验人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["case_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "name"],
                condition=Q(is_current=True),
                name="approvals_one_current_material",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SharedFetchStatus(models.TextChoices):
    FETCHED = "fetched", _("已获取")
    FAILED = "failed", _("获取失败")


class CaseSharedMaterial(models.Model):
    """A material the handling department fetched through the sharing gateway instead of
    the applicant uploading it (一次不用跑、材料免提交): where it came from (resource,
    provider, the gateway call) and, encrypted, the record as the grant let it through
    (granted items only, masked as granted). A failed fetch is kept with its reason; the
    applicant is then asked to upload the material."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shared_materials")
    material_name = models.CharField(_("材料名称"), max_length=200)
    source = models.CharField(_("来源"), max_length=16, choices=MaterialSource.choices)
    status = models.CharField(_("获取结果"), max_length=16, choices=SharedFetchStatus.choices)
    resource_code = models.CharField(_("资源代码"), max_length=20)
    resource_name = models.CharField(_("资源名称"), max_length=200, blank=True)
    provider_name = models.CharField(_("提供方"), max_length=100, blank=True)
    call_id = models.BigIntegerField(_("调用日志编号"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("获取时间"), null=True, blank=True)
    #: [[item code, item name], ...] of the granted items, in catalogue order
    items = models.JSONField(_("信息项"), default=list, blank=True)
    #: the records as JSON (a list of dicts keyed by item code), encrypted
    record = EncryptedTextField(
        _("共享数据"), purpose="approvals.case_shared_material.record", null=True, blank=True
    )
    record_count = models.PositiveIntegerField(_("记录数"), default=0)
    failure_reason = models.CharField(_("未获取原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("共享获取的材料")
        verbose_name_plural = _("共享获取的材料")
        ordering = ["case_id", "id"]
        indexes = [models.Index(fields=["case", "material_name"], name="approvals_shared_mat")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.material_name}"

    @property
    def is_fetched(self) -> bool:
        return self.status == SharedFetchStatus.FETCHED

    def rows(self) -> list[list[tuple[str, str]]]:
        """Each record as (item name, value) pairs in the granted items' order."""
        import json

        if not self.record:
            return []
        try:
            records = json.loads(str(self.record))
        except ValueError:
            return []
        names = [(code, name) for code, name in self.items] or [
            (code, code) for code in (records[0] if records else {})
        ]
        return [
            [
                (name, "" if record.get(code) is None else str(record.get(code)))
                for code, name in names
            ]
            for record in records
            if isinstance(record, dict)
        ]


# what each timeline verb is called (stored in Chinese on the row; shown translated)
TIMELINE_LABELS = {
    "draft_saved": _("保存草稿"),
    "submitted": _("提交申请（收件）"),
    "received": _("收件核验材料"),
    "correction_requested": _("一次性告知补正"),
    "correction_answered": _("补正材料"),
    "accepted": _("受理"),
    "not_accepted": _("不予受理"),
    "sent_back": _("退件"),
    "claimed": _("签收"),
    "step_completed": _("环节办理完成"),
    "returned": _("退回"),
    "countersign_requested": _("发起会签"),
    "countersign_answered": _("会签意见"),
    "opinion": _("签署意见"),
    "paused": _("特别程序开始"),
    "resumed": _("特别程序结束"),
    "extension_requested": _("申请延期"),
    "extension_refused": _("延期未获批准"),
    "extended": _("延期获批准"),
    "decided": _("作出决定"),
    "closed": _("办结"),
    "delivered": _("送达"),
    "withdrawn": _("撤回申请"),
    "rated": _("评价"),
    "material_uploaded": _("补充上传材料"),
}


class CaseEvent(models.Model):
    """One row of the case's timeline: every step, with who, when and the clock then."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    verb = models.CharField(_("环节"), max_length=40)
    label = models.CharField(_("名称"), max_length=100)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("办理人"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("时间"))
    state_from = models.CharField(_("原状态"), max_length=16, blank=True)
    state_to = models.CharField(_("新状态"), max_length=16, blank=True)
    step_name = models.CharField(_("流程环节"), max_length=100, blank=True)
    note = models.TextField(_("说明"), blank=True)
    working_days_used = models.IntegerField(_("已用工作日"), null=True, blank=True)
    working_days_left = models.IntegerField(_("剩余工作日"), null=True, blank=True)

    class Meta:
        verbose_name = _("办理过程")
        verbose_name_plural = _("办理过程")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="approvals_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.label}"

    @property
    def display_label(self) -> str:
        """The step's name in the reader's language."""
        return str(TIMELINE_LABELS.get(self.verb, self.label))


class NoticeKind(models.TextChoices):
    ACCEPTANCE = "acceptance", _("受理通知书")
    NOT_ACCEPTED = "not_accepted", _("不予受理决定书")
    CORRECTION = "correction", _("补正材料告知书")
    SPECIAL_PROCEDURE = "special_procedure", _("特别程序告知书")
    EXTENSION = "extension", _("延长审查期限告知书")
    APPROVAL = "approval", _("准予许可决定书")
    REFUSAL = "refusal", _("不予许可决定书")
    RETURNED = "returned", _("退件通知书")


class Notice(models.Model):
    """A written notice to the applicant; its PDF is rendered from these fields on demand."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("文书类型"), max_length=24, choices=NoticeKind.choices)
    number = models.CharField(_("文书编号"), max_length=60, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    issuer = models.CharField(_("制发机关"), max_length=100)
    recipient = models.CharField(_("送达对象"), max_length=200)
    paragraphs = models.JSONField(_("正文"), default=list)
    fields = models.JSONField(_("要素"), default=list)
    issued_on = models.DateField(_("日期"))
    created_at = models.DateTimeField(_("制发时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["case_id", "id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CorrectionRequest(models.Model):
    """One 一次性告知 notice listing every missing or defective material, with reasons.

    While it is open the clock does not run; a second request on the same case is allowed
    only after the first was answered (``sequence`` counts them, supervision flags >1).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections")
    sequence = models.PositiveSmallIntegerField(_("第几次补正"), default=1)
    items = models.JSONField(_("补正内容"), default=list)  # [{"material": ..., "reason": ...}]
    note = models.TextField(_("说明"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("告知人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("告知时间"))
    answered_at = models.DateTimeField(_("补正时间"), null=True, blank=True)
    answer_note = models.TextField(_("补正说明"), blank=True)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("补正告知")
        verbose_name_plural = _("补正告知")
        ordering = ["case_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(answered_at__isnull=True),
                name="approvals_one_open_correction",
            ),
            models.UniqueConstraint(fields=["case", "sequence"], name="approvals_correction_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} #{self.sequence}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class PauseKind(models.TextChoices):
    """行政许可法 art. 45 special procedures (same codes as the catalogue's)."""

    HEARING = "hearing", _("听证")
    TENDER = "tender", _("招标")
    AUCTION = "auction", _("拍卖")
    INSPECTION = "inspection", _("检验")
    TESTING = "testing", _("检测")
    QUARANTINE = "quarantine", _("检疫")
    APPRAISAL = "appraisal", _("鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")


class Pause(models.Model):
    """A special procedure: its working days do not count against the limit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField(_("特别程序"), max_length=16, choices=PauseKind.choices)
    reason = models.TextField(_("理由"))
    planned_days = models.PositiveIntegerField(_("预计所需工作日"), default=0)
    started_at = models.DateTimeField(_("开始时间"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结束人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    result = models.TextField(_("结果"), blank=True)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("特别程序")
        verbose_name_plural = _("特别程序")
        ordering = ["case_id", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(ended_at__isnull=True), name="approvals_one_open_pause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class ExtensionState(models.TextChoices):
    REQUESTED = "requested", _("待批准")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")


class Extension(models.Model):
    """延期: added working days, approved by a leader with written reasons."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveIntegerField(
        _("延长工作日"), validators=[MinValueValidator(1), MaxValueValidator(15)]
    )
    reason = models.TextField(_("延期理由"))
    state = models.CharField(
        _("状态"), max_length=16, choices=ExtensionState.choices, default=ExtensionState.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批准人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    comment = models.TextField(_("批准意见"), blank=True)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["case_id", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(state="requested"), name="approvals_one_open_extension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}"


class Opinion(models.Model):
    """An officer's opinion at a step (审查意见, 会签意见, 决定意见)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="opinions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签署人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    step_name = models.CharField(_("环节"), max_length=100, blank=True)
    task_id = models.PositiveBigIntegerField(_("任务"), null=True, blank=True)
    text = models.TextField(_("意见"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办理意见")
        verbose_name_plural = _("办理意见")
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step_name}"


class RatingLevel(models.IntegerChoices):
    """好差评 (国办发〔2019〕51号): 1 and 2 are 差评 and need a follow-up."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    FAIRLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


BAD_RATING_MAX = 2


class Rating(models.Model):
    """一事一评: one rating per case, by its applicant, after it was closed."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating")
    level = models.PositiveSmallIntegerField(
        _("评价等级"),
        choices=RatingLevel.choices,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(_("评价内容"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    needs_follow_up = models.BooleanField(_("差评待回访"), default=False)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="approvals_rating_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"

    @property
    def is_bad(self) -> bool:
        return self.level <= BAD_RATING_MAX


class CountersignState(models.TextChoices):
    OPEN = "open", _("待会签")
    ANSWERED = "answered", _("已会签")


class Countersign(models.Model):
    """A request for another unit's or department's opinion (会签). The clock runs."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="countersigns")
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("会签部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("会签科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    question = models.TextField(_("会签事项"))
    state = models.CharField(
        _("状态"), max_length=16, choices=CountersignState.choices, default=CountersignState.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("发起时间"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("会签人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("会签时间"), null=True, blank=True)
    agrees = models.BooleanField(_("同意"), null=True, blank=True)
    answer = models.TextField(_("会签意见"), blank=True)

    class Meta:
        verbose_name = _("会签")
        verbose_name_plural = _("会签")
        ordering = ["case_id", "requested_at"]
        indexes = [models.Index(fields=["department", "state"], name="approvals_countersign_todo")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"


class ItemProcess(models.Model):
    """An uploaded BPMN process (one definition version) that an item's cases run instead
    of the process generated from the guide's steps. Joint-case children keep the
    generated one: their acceptance and delivery happen once, on the parent."""

    item_id = models.PositiveBigIntegerField(_("事项"), unique=True)
    item_name = models.CharField(_("事项名称"), max_length=200)
    definition_id = models.PositiveBigIntegerField(_("流程定义"))
    definition_label = models.CharField(_("流程"), max_length=250)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("设置人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    set_at = models.DateTimeField(_("设置时间"))

    class Meta:
        verbose_name = _("事项办理流程")
        verbose_name_plural = _("事项办理流程")

    def __str__(self) -> str:
        return f"{self.item_name} → {self.definition_label}"
