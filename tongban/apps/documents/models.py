"""Official documents and office work (公文, GB/T 9704-2012): the data.

Sending side: ``Document`` (every GB/T 9704 element, the drafting state, the sealed PDF),
``Revision`` (the body's history), ``Opinion`` (what every step said), ``NumberSequence``
(gapless 发文字号 per issuer, issuer code, kind and year), ``IssuerSeal`` (the seal image and
signing keys of an issuing department).

Exchange: ``RecipientGroup`` (saved groups such as 各区人民政府), ``Dispatch`` (one sending
of a document), ``Delivery`` (one receiving unit's copy: 待签收 → 已签收 → 已登记, or 退回
with a 退文告知单, or recalled by the sender before signing).

Receiving side: ``Receipt`` (收文: 登记 → 拟办 → 批办 → 承办/传阅 → 办结 → 归档) and
``ReceiptTask`` (one person's reading or action with a deadline); only the receiving
department sees them.

督查督办: ``SupervisedTask`` with ``TaskOwner`` units and ``ProgressReport`` rows.

Archive: ``ArchiveRecord`` (a closed document or receipt with its metadata snapshot and
retention period).

Organisational units that send and receive are ``orgs.Department`` rows (a city's 市直
单位 and the district governments are departments of the organisation tree).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.apps.documents.layout import DocumentKind as LayoutKind


class Kind(models.TextChoices):
    """GB/T 9704's four formats; the values are the layout library's ``DocumentKind``."""

    FILE = LayoutKind.FILE.value, _("文件")
    LETTER = LayoutKind.LETTER.value, _("信函")
    ORDER = LayoutKind.ORDER.value, _("命令")
    MINUTES = LayoutKind.MINUTES.value, _("纪要")


class Direction(models.TextChoices):
    """上行文 need 签发人 in the header (GB/T 9704 §7.2.6)."""

    DOWNWARD = "down", _("下行文")
    PARALLEL = "parallel", _("平行文")
    UPWARD = "up", _("上行文")


class Classification(models.TextChoices):
    NONE = "", _("非密")
    SECRET = "秘密", _("秘密")
    CONFIDENTIAL = "机密", _("机密")
    TOP_SECRET = "绝密", _("绝密")


class Urgency(models.TextChoices):
    NORMAL = "", _("普通")
    URGENT = "加急", _("加急")
    EXTRA_URGENT = "特急", _("特急")


class Retention(models.TextChoices):
    """保管期限 (DA/T 22 文书档案): permanent, 30 years, 10 years."""

    PERMANENT = "permanent", _("永久")
    LONG = "30y", _("定期30年")
    SHORT = "10y", _("定期10年")


class DocumentState(models.TextChoices):
    DRAFTING = "drafting", _("拟稿")
    CHECKING = "checking", _("核稿")
    COUNTERSIGNING = "countersigning", _("会签")
    SIGNING = "signing", _("签发")
    NUMBERING = "numbering", _("编号")
    SEALING = "sealing", _("用印")
    DISTRIBUTING = "distributing", _("分发")
    DISTRIBUTED = "distributed", _("已分发")
    ARCHIVED = "archived", _("已归档")
    CANCELLED = "cancelled", _("已撤销")


class Document(models.Model):
    """An outgoing official document (发文) with every GB/T 9704-2012 element.

    ``serial`` and ``number`` stay empty until the 编号 step; ``sealed_pdf`` and
    ``sm2_signature`` until 用印. List-valued elements (签发人, 抄送, attachment notes,
    纪要 attendance) are JSON lists of strings.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issuer = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="issued_documents"
    )
    drafting_unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    drafter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("文种格式"), max_length=8, choices=Kind.choices, default=Kind.FILE)
    direction = models.CharField(
        _("行文方向"), max_length=10, choices=Direction.choices, default=Direction.DOWNWARD
    )
    state = models.CharField(
        _("状态"),
        max_length=20,
        choices=DocumentState.choices,
        default=DocumentState.DRAFTING,
        db_index=True,
    )
    # 版头
    copy_number = models.CharField(_("份号"), max_length=6, blank=True)
    classification = models.CharField(
        _("密级"), max_length=4, choices=Classification.choices, blank=True
    )
    secrecy_period = models.CharField(_("保密期限"), max_length=20, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=4, choices=Urgency.choices, blank=True)
    issuer_mark = models.CharField(_("发文机关标志"), max_length=60, blank=True)
    issuer_code = models.CharField(_("机关代字"), max_length=20)
    year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True)
    serial = models.PositiveIntegerField(_("序号"), null=True, blank=True)
    number = models.CharField(_("发文字号"), max_length=60, blank=True, db_index=True)
    signers = models.JSONField(_("签发人"), default=list, blank=True)
    signer_title = models.CharField(_("签发人职务"), max_length=40, blank=True)
    # 主体
    title = models.CharField(_("标题"), max_length=200)
    addressees = models.CharField(_("主送机关"), max_length=500, blank=True)
    body = models.TextField(_("正文"), blank=True)  # paragraphs separated by newlines
    attachment_notes = models.JSONField(_("附件说明"), default=list, blank=True)
    signature = models.CharField(_("发文机关署名"), max_length=100, blank=True)
    date = models.DateField(_("成文日期"), null=True, blank=True)
    notes = models.CharField(_("附注"), max_length=500, blank=True)
    # 版记
    cc = models.JSONField(_("抄送机关"), default=list, blank=True)
    printed_by = models.CharField(_("印发机关"), max_length=100, blank=True)
    printed_on = models.DateField(_("印发日期"), null=True, blank=True)
    # 纪要
    attendees = models.JSONField(_("出席"), default=list, blank=True)
    absentees = models.JSONField(_("请假"), default=list, blank=True)
    observers = models.JSONField(_("列席"), default=list, blank=True)
    # drafting process
    countersign_departments = models.ManyToManyField(
        "orgs.Department", blank=True, related_name="+", verbose_name=_("会签单位")
    )
    process = models.ForeignKey(
        "workflow.ProcessInstance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(_("签发时间"), null=True, blank=True)
    # sealing
    sealed_pdf = models.ForeignKey(
        "files.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sm2_signature = models.BinaryField(null=True, blank=True)
    content_sm3 = models.CharField(max_length=64, blank=True)
    # the canonical content the SM2 signature covers, as signed: verification checks the
    # signatures against it, so renaming the issuing department later breaks nothing
    sealed_content = models.BinaryField(null=True, blank=True, editable=False)
    seal = models.ForeignKey(
        "documents.IssuerSeal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sealed_at = models.DateTimeField(_("用印时间"), null=True, blank=True)
    # archive
    retention = models.CharField(
        _("保管期限"), max_length=10, choices=Retention.choices, default=Retention.LONG
    )
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("发文")
        verbose_name_plural = _("发文")
        ordering = ["-created_at", "-id"]
        constraints = [
            # 发文字号: one serial per issuer, issuer code, kind and year
            models.UniqueConstraint(
                fields=["issuer", "issuer_code", "kind", "year", "serial"],
                condition=Q(serial__isnull=False),
                name="documents_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(serial__isnull=True) | Q(year__isnull=False),
                name="documents_serial_has_year",
            ),
        ]
        indexes = [models.Index(fields=["issuer", "state"])]

    def __str__(self) -> str:
        return f"{self.number or _('（未编号）')} {self.title}"


class Revision(models.Model):
    """One saved version of the title and body, numbered from 1, with who and at which step."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    step = models.CharField(max_length=20, choices=DocumentState.choices)
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="documents_revision_unique")
        ]

    def __str__(self) -> str:
        return str(f"{self.document_id} v{self.number}")


class OpinionDecision(models.TextChoices):
    AGREE = "agree", _("同意")
    RETURN = "return", _("退回修改")
    COMMENT = "comment", _("意见")


class Opinion(models.Model):
    """What a step said: 核稿/会签/签发 opinions, kept with the document for good."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="opinions")
    step = models.CharField(max_length=20, choices=DocumentState.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=OpinionDecision.choices)
    text = models.TextField(_("意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "created_at", "id"]

    def __str__(self) -> str:
        return str(f"{self.document_id} {self.step} {self.decision}")


class DocumentAttachment(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(_("附件名称"), max_length=200)
    file = models.ForeignKey(
        "files.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["document", "position", "id"]

    def __str__(self) -> str:
        return str(self.title)


class NumberSequence(models.Model):
    """The last serial issued per issuer, issuer code, kind and year.

    Numbering locks this row (``select_for_update``) and writes the document's serial in
    the same transaction: a rolled-back sign-off gives its serial back, two concurrent
    sign-offs wait for each other, so serials have neither gaps nor duplicates.
    """

    issuer = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    issuer_code = models.CharField(max_length=20)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "issuer_code", "kind", "year"], name="documents_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return str(f"{self.issuer_code}〔{self.year}〕{self.kind} → {self.last}")


class IssuerSeal(models.Model):
    """An issuing department's seal: the image placed over the date and the signing keys.

    Private keys are stored encrypted (``platform.crypto`` ``encrypt_text`` with the purpose
    ``documents.seal``, registered for ``tongban rotate-keys`` like the licences' keys);
    the certificate and SM2 public key are public. One active seal per department.
    """

    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("印章名称"), max_length=100)
    image = models.BinaryField(_("印模"))  # PNG
    certificate_pem = models.TextField()  # X.509 (ECDSA P-256) for PAdES
    pades_key_encrypted = models.BinaryField(editable=False)  # SM4-GCM, platform crypto
    sm2_public_pem = models.TextField()
    sm2_private_encrypted = models.BinaryField(editable=False)  # SM4-GCM, platform crypto
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department"], condition=Q(active=True), name="documents_one_active_seal"
            )
        ]

    def __str__(self) -> str:
        return str(self.name)


# --- exchange ----------------------------------------------------------------------------


class RecipientGroup(models.Model):
    """A saved group of receiving units (各区人民政府, 市直各单位). ``owner`` empty: city-wide."""

    owner = models.ForeignKey(
        "orgs.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="document_groups",
    )
    name = models.CharField(_("分组名称"), max_length=60)
    members = models.ManyToManyField("orgs.Department", related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="documents_group_unique")
        ]

    def __str__(self) -> str:
        return str(self.name)


class Dispatch(models.Model):
    """One sending of a sealed document to a set of units."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="dispatches")
    sender = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()
    message = models.CharField(_("附言"), max_length=500, blank=True)
    sign_within_hours = models.PositiveIntegerField(_("签收时限（小时）"))
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return str(f"{self.document_id} @ {self.sent_at:%Y-%m-%d %H:%M}")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待签收")
    SIGNED = "signed", _("已签收")
    REGISTERED = "registered", _("已登记")
    RETURNED = "returned", _("已退回")
    RECALLED = "recalled", _("已撤回")


class Delivery(models.Model):
    """One receiving unit's copy of a dispatched document, with the times of each step."""

    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="deliveries")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="deliveries")
    recipient = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="document_deliveries"
    )
    state = models.CharField(
        max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    delivered_at = models.DateTimeField()
    due_at = models.DateTimeField()  # sign by then, or the unit is reminded automatically
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    registered_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_reason = models.TextField(_("退文理由"), blank=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dispatch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispatch", "recipient"], name="documents_delivery_unique"
            ),
            models.CheckConstraint(
                condition=~Q(state="returned") | ~Q(return_reason=""),
                name="documents_return_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "state"]),
            models.Index(fields=["state", "due_at"]),
        ]

    def __str__(self) -> str:
        return str(f"{self.document_id} → {self.recipient_id} ({self.state})")


# --- receiving side ----------------------------------------------------------------------


class ReceiptState(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    PROPOSED = "proposed", _("已拟办")
    INSTRUCTED = "instructed", _("已批办")
    HANDLING = "handling", _("办理中")
    CLOSED = "closed", _("已办结")
    ARCHIVED = "archived", _("已归档")


class Receipt(models.Model):
    """收文: a received document registered into the receiving department's own flow.

    ``delivery`` is set for documents received through exchange; paper documents are
    registered by hand with the same fields. Visible to the receiving department only.
    """

    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    delivery = models.OneToOneField(
        Delivery, on_delete=models.PROTECT, null=True, blank=True, related_name="receipt"
    )
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()  # 收文编号 per department and year
    source = models.CharField(_("来文单位"), max_length=100)
    source_number = models.CharField(_("来文字号"), max_length=60, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    urgency = models.CharField(_("紧急程度"), max_length=4, choices=Urgency.choices, blank=True)
    classification = models.CharField(
        _("密级"), max_length=4, choices=Classification.choices, blank=True
    )
    state = models.CharField(
        max_length=12, choices=ReceiptState.choices, default=ReceiptState.REGISTERED
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()
    proposal = models.TextField(_("拟办意见"), blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    instruction = models.TextField(_("批办意见"), blank=True)
    instructed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    instructed_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateField(_("办理期限"), null=True, blank=True)
    result = models.TextField(_("办理结果"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    retention = models.CharField(
        _("保管期限"), max_length=10, choices=Retention.choices, default=Retention.SHORT
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    file = models.ForeignKey(
        "files.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "year", "serial"], name="documents_receipt_serial_unique"
            )
        ]

    def __str__(self) -> str:
        return str(f"收〔{self.year}〕{self.serial}号 {self.title}")


class ReceiptTaskKind(models.TextChoices):
    READ = "read", _("传阅")
    ACT = "act", _("承办")


class ReceiptTask(models.Model):
    """One person's 传阅 (read and comment) or 承办 (act by the deadline) on a receipt."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=4, choices=ReceiptTaskKind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField()
    deadline = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("意见/结果"), blank=True)

    class Meta:
        ordering = ["receipt", "assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "kind", "assignee"], name="documents_receipt_task_unique"
            )
        ]

    def __str__(self) -> str:
        return str(f"{self.receipt_id} {self.kind} {self.assignee_id}")


# --- 督查督办 -------------------------------------------------------------------------------


class SupervisedTaskState(models.TextChoices):
    OPEN = "open", _("办理中")
    OVERDUE = "overdue", _("已逾期")
    DONE = "done", _("已办结")
    CANCELLED = "cancelled", _("已撤销")


class SupervisedTask(models.Model):
    """A supervised item (督办事项) from a document or a meeting decision."""

    number = models.CharField(_("督办编号"), max_length=30, unique=True)
    supervisor = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="+"
    )  # the department that supervises (e.g. 市政府督查室's department)
    title = models.CharField(_("督办事项"), max_length=200)
    requirement = models.TextField(_("办理要求"), blank=True)
    source_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    meeting = models.CharField(_("会议决定事项来源"), max_length=200, blank=True)
    deadline = models.DateField(_("办结时限"))
    state = models.CharField(
        max_length=10, choices=SupervisedTaskState.choices, default=SupervisedTaskState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return str(f"{self.number} {self.title}")


class TaskOwner(models.Model):
    """A unit that must carry out a supervised task (牵头 or 配合) and its own completion."""

    task = models.ForeignKey(SupervisedTask, on_delete=models.CASCADE, related_name="owners")
    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    lead = models.BooleanField(_("牵头单位"), default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "department"], name="documents_owner_unique")
        ]

    def __str__(self) -> str:
        return str(f"{self.task_id} {self.department_id}")


class ProgressReport(models.Model):
    task = models.ForeignKey(SupervisedTask, on_delete=models.CASCADE, related_name="reports")
    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("进展情况"))
    percent = models.PositiveSmallIntegerField(_("完成进度（%）"), default=0)
    completed = models.BooleanField(_("申请办结"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="documents_percent_range")
        ]

    def __str__(self) -> str:
        return str(f"{self.task_id} {self.department_id} {self.percent}%")


# --- archive -----------------------------------------------------------------------------


class ArchiveKind(models.TextChoices):
    SENT = "sent", _("发文")
    RECEIVED = "received", _("收文")


class ArchiveRecord(models.Model):
    """A closed document or receipt in the department's archive (归档).

    ``metadata`` is the snapshot of the elements at archiving time; the document's
    revisions, opinions and sealed PDF stay linked (all versions are kept).
    """

    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ArchiveKind.choices)
    document = models.OneToOneField(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="archive"
    )
    receipt = models.OneToOneField(
        Receipt, on_delete=models.PROTECT, null=True, blank=True, related_name="archive"
    )
    archive_number = models.CharField(_("档号"), max_length=60, unique=True)
    retention = models.CharField(max_length=10, choices=Retention.choices)
    keep_until = models.DateField(null=True, blank=True)  # empty: permanent
    metadata = models.JSONField(default=dict)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    archived_at = models.DateTimeField()

    class Meta:
        ordering = ["-archived_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(document__isnull=False) & Q(receipt__isnull=True))
                | (Q(document__isnull=True) & Q(receipt__isnull=False)),
                name="documents_archive_one_source",
            )
        ]

    def __str__(self) -> str:
        return str(self.archive_number)
