"""Government information resource sharing (政务信息资源共享交换).

The resource catalogue (``Resource`` with its ``ResourceVersion``s and their ``InfoItem``s,
GB/T 21063 and the 2017 目录编制指南), the department systems that consume shared data
(``ConsumerSystem`` with their OAuth2 ``AccessToken``s), the sharing requests consumer
departments make and the ``Grant``s they lead to, and the gateway's tamper-evident call log
(``GatewayCall`` sealed in batches by ``LogSeal``; ``GatewayCallSubject`` lets a citizen
find the calls that read their data; ``AccessReport`` is a citizen's report of an access
they believe improper). ``DailyStat`` holds the per-day aggregates the statistics pages
draw. The base databases live in ``tongban.apps.basedata``; scheduled file exchange in
``tongban.apps.exchange``.

The log never holds the data that was served: only who asked, for what, with which
(encrypted) parameters, how many records came back and how it ended.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.platform.access.services import ScopePaths
from tongban.platform.crypto.fields import EncryptedTextField
from tongban.platform.orgs.models import Department

# how rows reach the organisation tree (access.scope_queryset)
RESOURCE_SCOPE = ScopePaths(department="provider")
REQUEST_SCOPE_CONSUMER = ScopePaths(department="consumer_department")
REQUEST_SCOPE_PROVIDER = ScopePaths(department="resource__provider")
SYSTEM_SCOPE = ScopePaths(department="department")
CALL_SCOPE_CONSUMER = ScopePaths(department="consumer_department")
CALL_SCOPE_PROVIDER = ScopePaths(department="provider_department")

# 类 1 digit + 项 2 + 目 3 + optional 细目 (3) + sequence (4): e.g. 1010010001, 1010010010001
RESOURCE_CODE_PATTERN = r"^[1-9]\d{2}\d{3}(\d{3})?\d{4}$"


class ResourceClass(models.TextChoices):
    BASE = "base", _("基础信息资源")
    THEMATIC = "thematic", _("主题信息资源")
    DEPARTMENTAL = "departmental", _("部门信息资源")


class ShareType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class OpenType(models.TextChoices):
    OPEN = "open", _("无条件开放")
    CONDITIONAL = "conditional", _("有条件开放")
    CLOSED = "closed", _("不予开放")


class ShareMethod(models.TextChoices):
    API = "api", _("接口服务")
    EXCHANGE = "exchange", _("库表/文件交换")
    BOTH = "both", _("接口服务和文件交换")


class ResourceFormat(models.TextChoices):
    DATABASE = "database", _("数据库")
    SPREADSHEET = "spreadsheet", _("电子表格")
    DOCUMENT = "document", _("电子文件")
    IMAGE = "image", _("图形图像")
    STREAM = "stream", _("流媒体")
    OTHER = "other", _("其他")


class UpdateCycle(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")
    IRREGULAR = "irregular", _("不定期")


class DataType(models.TextChoices):
    STRING = "string", _("字符型")
    INTEGER = "integer", _("整数型")
    DECIMAL = "decimal", _("数值型")
    DATE = "date", _("日期型")
    DATETIME = "datetime", _("日期时间型")
    BOOLEAN = "boolean", _("布尔型")
    BINARY = "binary", _("二进制")


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("公开")
    INTERNAL = "internal", _("内部")
    SENSITIVE = "sensitive", _("敏感")
    PERSONAL = "personal", _("个人敏感信息")


class Resource(models.Model):
    """A catalogue entry. Its metadata lives in versions; ``current`` is the published one
    (null until the first publication). The code and provider never change."""

    code = models.CharField(_("资源代码"), max_length=20, unique=True)
    resource_class = models.CharField(_("资源分类"), max_length=16, choices=ResourceClass.choices)
    provider = models.ForeignKey(
        Department, verbose_name=_("提供方"), on_delete=models.PROTECT, related_name="+"
    )
    current = models.ForeignKey(
        "ResourceVersion",
        verbose_name=_("现行版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: the gateway provider that serves this resource (providers.register_provider), e.g.
    #: "basedata.person"; blank when the resource is only exchanged as files
    service_code = models.CharField(_("服务标识"), max_length=60, blank=True)
    is_withdrawn = models.BooleanField(_("已撤销"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信息资源")
        verbose_name_plural = _("信息资源")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=RESOURCE_CODE_PATTERN), name="sharing_resource_code"
            )
        ]

    def __str__(self) -> str:
        return self.code


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    REJECTED = "rejected", _("退回修改")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被替代")
    WITHDRAWN = "withdrawn", _("已撤销")


OPEN_VERSION_STATUSES = (VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.REJECTED)


class ResourceVersion(models.Model):
    """One version of a catalogue entry's metadata: drafted and submitted by the provider,
    reviewed and published by the catalogue administrators. Published versions are never
    edited; a change is a new version."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    #: 类/项/目/细目, e.g. "1-01-001" or "2-03-002-001"
    classification = models.CharField(_("资源分类号"), max_length=20)
    name = models.CharField(_("资源名称"), max_length=200)
    summary = models.TextField(_("资源摘要"))
    format = models.CharField(_("资源格式"), max_length=12, choices=ResourceFormat.choices)
    share_type = models.CharField(_("共享类型"), max_length=16, choices=ShareType.choices)
    #: conditions of conditional sharing, or the legal basis for not sharing
    share_conditions = models.TextField(_("共享条件或不予共享依据"), blank=True)
    share_method = models.CharField(
        _("共享方式"), max_length=12, choices=ShareMethod.choices, default=ShareMethod.API
    )
    open_type = models.CharField(
        _("开放类型"), max_length=12, choices=OpenType.choices, default=OpenType.CLOSED
    )
    open_conditions = models.TextField(_("开放条件"), blank=True)
    update_cycle = models.CharField(_("更新周期"), max_length=12, choices=UpdateCycle.choices)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    related_codes = models.JSONField(_("关联资源代码"), default=list, blank=True)
    change_note = models.CharField(_("变更说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("资源目录版本")
        verbose_name_plural = _("资源目录版本")
        ordering = ["resource", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="sharing_version_number"),
            # at most one version in preparation per resource
            models.UniqueConstraint(
                fields=["resource"],
                condition=Q(status__in=["draft", "submitted", "rejected"]),
                name="sharing_one_open_version",
            ),
            # a resource that is not shared states its legal basis
            models.CheckConstraint(
                condition=~Q(share_type="none") | ~Q(share_conditions=""),
                name="sharing_none_has_basis",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class InfoItem(models.Model):
    """An information item (信息项) of a version: what a grant names and the gateway
    filters on. ``code`` is the key of the item in the records the gateway returns."""

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveIntegerField(_("序号"), default=0)
    code = models.SlugField(_("信息项代码"), max_length=60)
    name = models.CharField(_("信息项名称"), max_length=100)
    data_type = models.CharField(_("数据类型"), max_length=12, choices=DataType.choices)
    length = models.PositiveIntegerField(_("数据长度"), null=True, blank=True)
    sensitivity = models.CharField(
        _("敏感级别"), max_length=12, choices=Sensitivity.choices, default=Sensitivity.INTERNAL
    )
    description = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("信息项")
        verbose_name_plural = _("信息项")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="sharing_item_code")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ConsumerSystem(models.Model):
    """A department's business system that calls the gateway with its own credentials:
    OAuth2 client credentials (``client_id`` + a secret stored only as a salted hash) or
    requests signed with its SM2 key (the public key is held here)."""

    code = models.SlugField(_("系统代码"), max_length=40, unique=True)
    name = models.CharField(_("系统名称"), max_length=100)
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.CharField(_("客户端标识"), max_length=40, unique=True)
    secret_hash = models.CharField(_("密钥摘要"), max_length=200, blank=True, editable=False)
    secret_prefix = models.CharField(_("密钥前缀"), max_length=16, blank=True, editable=False)
    secret_set_at = models.DateTimeField(_("密钥设置时间"), null=True, blank=True)
    public_key_pem = models.TextField(_("SM2公钥"), blank=True)
    #: the platform's own applications (e.g. online approval) calling for a department
    is_platform = models.BooleanField(_("平台内应用"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    contact = models.CharField(_("联系人"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")
        ordering = ["department", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AccessToken(models.Model):
    """An OAuth2 access token issued to a system (client credentials grant); only its SM3
    digest is stored."""

    system = models.ForeignKey(ConsumerSystem, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")
        indexes = [models.Index(fields=["expires_at"], name="sharing_token_expiry")]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.token_hash[:8]}"


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待提供方审核")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


class SharingRequest(models.Model):
    """A consumer department's request to use a resource (共享申请)."""

    number = models.CharField(_("申请编号"), max_length=30, unique=True)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="requests")
    resource_version = models.ForeignKey(
        ResourceVersion, on_delete=models.PROTECT, related_name="+"
    )
    consumer_department = models.ForeignKey(
        Department, verbose_name=_("申请部门"), on_delete=models.PROTECT, related_name="+"
    )
    consumer_system = models.ForeignKey(
        ConsumerSystem, verbose_name=_("使用系统"), on_delete=models.PROTECT, related_name="+"
    )
    items = models.JSONField(_("申请信息项"), default=list)
    purpose = models.TextField(_("使用用途"))
    legal_basis = models.TextField(_("依据"))
    period_start = models.DateField(_("使用期限起"))
    period_end = models.DateField(_("使用期限止"))
    status = models.CharField(
        _("状态"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    #: the provider decides by then (N working days, settings.SHARING_REVIEW_WORKING_DAYS)
    due_at = models.DateTimeField(_("审核期限"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_reasons = models.TextField(_("审核意见"), blank=True)
    overdue_reported_at = models.DateTimeField(_("超期上报时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("共享申请")
        verbose_name_plural = _("共享申请")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_reasons=""),
                name="sharing_refusal_has_reasons",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="sharing_request_period",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(status="submitted", overdue_reported_at__isnull=True),
                name="sharing_request_due",
            )
        ]

    def __str__(self) -> str:
        return self.number


class Grant(models.Model):
    """What a consumer system may read of a resource (共享授权): the items, which of them
    arrive masked, a rate limit and an expiry. Revocable."""

    request = models.OneToOneField(
        SharingRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="grant"
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="grants")
    consumer_system = models.ForeignKey(
        ConsumerSystem, on_delete=models.PROTECT, related_name="grants"
    )
    consumer_department = models.ForeignKey(
        Department, verbose_name=_("使用部门"), on_delete=models.PROTECT, related_name="+"
    )
    items = models.JSONField(_("授权信息项"), default=list)
    masked_items = models.JSONField(_("脱敏信息项"), default=list, blank=True)
    purpose = models.TextField(_("授权用途"), blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("调用频率上限（次/分钟）"), default=600)
    valid_from = models.DateTimeField(_("生效时间"))
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.TextField(_("撤销原因"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["consumer_system", "resource"],
                condition=Q(revoked_at__isnull=True),
                name="sharing_grant_live",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("valid_from")), name="sharing_grant_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_id}→{self.consumer_system_id}"


class CallResult(models.TextChoices):
    OK = "ok", _("成功")
    NOT_FOUND = "not_found", _("无数据")
    UNAUTHENTICATED = "unauthenticated", _("身份认证失败")
    DENIED = "denied", _("未授权")
    RATE_LIMITED = "rate_limited", _("超出频率限制")
    INVALID = "invalid", _("参数错误")
    ERROR = "error", _("服务异常")


class GatewayCall(models.Model):
    """One gateway call (append-only). ``digest`` is the SM3 of the row's canonical content
    (``gateway_log.call_digest``); ``LogSeal`` chains and signs the digests in batches so a
    changed, deleted or inserted row is detected."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("调用时间"), db_index=True)
    consumer_system = models.ForeignKey(
        ConsumerSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consumer_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grant = models.ForeignKey(
        Grant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    #: the query parameters as JSON, encrypted (they usually hold an identity number)
    query = EncryptedTextField(_("查询参数"), null=True, blank=True)
    records = models.PositiveIntegerField(_("返回记录数"), default=0)
    result = models.CharField(_("结果"), max_length=16, choices=CallResult.choices)
    latency_ms = models.FloatField(_("耗时（毫秒）"), default=0)
    case_number = models.CharField(_("关联办件"), max_length=40, blank=True)
    request_id = models.CharField(_("请求标识"), max_length=64, blank=True)
    digest = models.CharField(max_length=64)
    seal = models.ForeignKey(
        "LogSeal", null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )

    class Meta:
        verbose_name = _("共享调用日志")
        verbose_name_plural = _("共享调用日志")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(seal__isnull=True), name="sharing_unsealed")
        ]

    def __str__(self) -> str:
        return f"call {self.pk} {self.result}"


class GatewayCallSubject(models.Model):
    """Whose data a call read: the keyed SM3 (``crypto.lookup_hmac``, purpose
    ``sharing.subject``) of each person's or organisation's identity number, so a citizen
    can find every access to their data without the log holding the number."""

    call = models.ForeignKey(GatewayCall, on_delete=models.CASCADE, related_name="subjects")
    subject_hash = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = _("调用涉及对象")
        verbose_name_plural = _("调用涉及对象")

    def __str__(self) -> str:
        return f"{self.call_id}:{self.subject_hash[:8]}"


class LogSeal(models.Model):
    """A batch of calls sealed: ``chain_hash`` = SM3(previous chain hash ‖ the batch's
    digests in id order), signed with the platform's SM2 key."""

    first_call_id = models.BigIntegerField()
    last_call_id = models.BigIntegerField()
    count = models.PositiveIntegerField()
    previous_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64, unique=True)
    signature = models.BinaryField()
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("日志封存批次")
        verbose_name_plural = _("日志封存批次")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"seal {self.first_call_id}–{self.last_call_id}"


class ReportStatus(models.TextChoices):
    OPEN = "open", _("已提交")
    FORWARDED = "forwarded", _("已转电子监察")
    CLOSED = "closed", _("已办结")


class AccessReport(models.Model):
    """A citizen's report that an access to their data was improper; it reaches
    supervision as the event ``sharing.access.reported``."""

    call = models.ForeignKey(GatewayCall, on_delete=models.PROTECT, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("举报理由"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    outcome = models.TextField(_("处理结果"), blank=True)

    class Meta:
        verbose_name = _("数据使用举报")
        verbose_name_plural = _("数据使用举报")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["call", "reporter"], name="sharing_one_report")
        ]

    def __str__(self) -> str:
        return f"report {self.pk} on call {self.call_id}"


class DailyStat(models.Model):
    """Calls per day, resource and consumer system (rolled up from the log by a job)."""

    day = models.DateField()
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    provider_department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    consumer_system = models.ForeignKey(ConsumerSystem, on_delete=models.CASCADE, related_name="+")
    consumer_department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    calls = models.PositiveIntegerField(default=0)
    ok_calls = models.PositiveIntegerField(default=0)
    denied_calls = models.PositiveIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    latency_ms_total = models.FloatField(default=0)

    class Meta:
        verbose_name = _("共享调用统计")
        verbose_name_plural = _("共享调用统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "resource", "consumer_system"], name="sharing_daily_stat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.resource_id}/{self.consumer_system_id}"
