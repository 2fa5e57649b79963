"""The service catalogue (政务服务事项) and the power lists (三单).

A ``ServiceItem`` is the stable identity of an item (its implementation code); its content
lives in ``ItemVersion`` rows. A version is edited as a draft, submitted for review, and
published; a published version is never changed again, so a case opened against it keeps
the exact guide, materials, limits and form it was opened with. At most one version per
item is open for editing (draft or in review) at a time.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ItemType(models.TextChoices):
    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    ADJUDICATION = "adjudication", _("行政裁决")
    BENEFIT = "benefit", _("行政给付")
    REWARD = "reward", _("行政奖励")
    FILING = "filing", _("行政备案")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


class PowerType(models.TextChoices):
    """Power kinds of the 权责清单; the first eight are also service-item kinds."""

    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    ADJUDICATION = "adjudication", _("行政裁决")
    BENEFIT = "benefit", _("行政给付")
    REWARD = "reward", _("行政奖励")
    FILING = "filing", _("行政备案")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    PENALTY = "penalty", _("行政处罚")
    COERCION = "coercion", _("行政强制")
    INSPECTION = "inspection", _("行政检查")
    LEVY = "levy", _("行政征收")


class ItemLevel(models.TextChoices):
    MAIN = "main", _("主项")
    SUB = "sub", _("子项")
    HANDLING = "handling", _("业务办理项")


class ExerciseLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇（街道）级")
    VILLAGE = "village", _("村（社区）级")


class CaseType(models.TextChoices):
    INSTANT = "instant", _("即办件")
    PROMISED = "promised", _("承诺件")


class OnlineDepth(models.IntegerChoices):
    I = 1, _("一级：网上咨询、下载表格")  # noqa: E741
    II = 2, _("二级：网上预审")
    III = 3, _("三级：网上受理，现场核验或领取")
    IV = 4, _("四级：全程网办")


class Audience(models.TextChoices):
    PERSON = "person", _("个人")
    ENTERPRISE = "enterprise", _("法人")
    BOTH = "both", _("个人和法人")


class SpecialProcedure(models.TextChoices):
    """行政许可法 art. 45: time spent on these does not count against the limit."""

    HEARING = "hearing", _("听证")
    TENDER = "tender", _("招标")
    AUCTION = "auction", _("拍卖")
    INSPECTION = "inspection", _("检验")
    TESTING = "testing", _("检测")
    QUARANTINE = "quarantine", _("检疫")
    APPRAISAL = "appraisal", _("鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")


class DeliveryMethod(models.TextChoices):
    COLLECT = "collect", _("窗口领取")
    POST = "post", _("邮寄送达")
    ONLINE = "online", _("网上送达")


class LegalBasisKind(models.TextChoices):
    LAW = "law", _("法律")
    ADMINISTRATIVE_REGULATION = "administrative_regulation", _("行政法规")
    LOCAL_REGULATION = "local_regulation", _("地方性法规")
    DEPARTMENTAL_RULE = "departmental_rule", _("部门规章")
    LOCAL_RULE = "local_rule", _("地方政府规章")
    NORMATIVE_DOCUMENT = "normative_document", _("规范性文件")


class LegalBasis(models.Model):
    """A law or regulation that items and powers cite (article numbers go on the link)."""

    title = models.CharField(_("名称"), max_length=200, unique=True)
    kind = models.CharField(_("效力级别"), max_length=32, choices=LegalBasisKind.choices)
    issuer = models.CharField(_("制定机关"), max_length=100, blank=True)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    effective_date = models.DateField(_("施行日期"), null=True, blank=True)
    url = models.URLField(_("原文链接"), blank=True)

    class Meta:
        verbose_name = _("法律法规")
        verbose_name_plural = _("法律法规")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Theme(models.Model):
    """A browsing theme (主题), e.g. 社会保障, 交通出行."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    audience = models.CharField(_("服务对象"), max_length=16, choices=Audience.choices)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("主题")
        verbose_name_plural = _("主题")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class LifeEvent(models.Model):
    """A life event (出生, 入学 … 企业开办 … 注销) used for browsing and need routing."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    audience = models.CharField(_("服务对象"), max_length=16, choices=Audience.choices)
    keywords = models.TextField(
        _("关联词"), blank=True, help_text=_("用空格分隔，用于“我要办”意图识别")
    )
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("人生事件")
        verbose_name_plural = _("人生事件")
        ordering = ["audience", "order", "code"]

    def __str__(self) -> str:
        return self.name


class PowerStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REPEALED = "repealed", _("已取消")


class PowerItem(models.Model):
    """One power of the 权责清单, with its holder, legal basis and duties (责任清单)."""

    code = models.CharField(_("权力编码"), max_length=40, unique=True)
    name = models.CharField(_("权力名称"), max_length=200)
    power_type = models.CharField(_("权力类型"), max_length=32, choices=PowerType.choices)
    holder = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="catalog_powers",
    )
    exercise_level = models.CharField(
        _("行使层级"), max_length=16, choices=ExerciseLevel.choices, default=ExerciseLevel.CITY
    )
    accountability = models.TextField(_("追责情形"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PowerStatus.choices, default=PowerStatus.ACTIVE
    )
    note = models.TextField(_("备注"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("权力事项")
        verbose_name_plural = _("权力事项")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PowerBasis(models.Model):
    power = models.ForeignKey(PowerItem, on_delete=models.CASCADE, related_name="bases")
    basis = models.ForeignKey(LegalBasis, verbose_name=_("依据"), on_delete=models.PROTECT)
    article = models.CharField(_("条款"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("设定依据")
        verbose_name_plural = _("设定依据")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.basis_id} {self.article}"


class PowerDuty(models.Model):
    """A duty attached to a power (责任清单): what must be done at which stage."""

    power = models.ForeignKey(PowerItem, on_delete=models.CASCADE, related_name="duties")
    order = models.PositiveIntegerField(_("序号"), default=0)
    stage = models.CharField(_("环节"), max_length=50)
    duty = models.TextField(_("责任事项"))

    class Meta:
        verbose_name = _("责任事项")
        verbose_name_plural = _("责任清单")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.stage}：{self.duty[:40]}"


class NegativeListKind(models.TextChoices):
    PROHIBITED = "prohibited", _("禁止准入类")
    LICENSED = "licensed", _("许可准入类")


class NegativeListEntry(models.Model):
    """An entry of the market-access negative list (市场准入负面清单)."""

    code = models.CharField(_("编号"), max_length=20, unique=True)
    kind = models.CharField(_("类别"), max_length=16, choices=NegativeListKind.choices)
    sector = models.CharField(_("行业"), max_length=100)
    measure = models.TextField(_("禁止或许可事项"))
    basis = models.TextField(_("设立依据"), blank=True)
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("主管部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalog_negative_entries",
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("负面清单条目")
        verbose_name_plural = _("市场准入负面清单")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.measure[:40]}"


class ServiceItem(models.Model):
    """The stable identity of a service item; its content is in versions."""

    implementation_code = models.CharField(_("实施编码"), max_length=80, unique=True)
    basic_code = models.CharField(_("基本编码"), max_length=40, db_index=True)
    level = models.CharField(_("事项层级"), max_length=16, choices=ItemLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("实施机关"),
        on_delete=models.PROTECT,
        related_name="catalog_items",
    )
    current = models.ForeignKey(
        "ItemVersion",
        verbose_name=_("现行版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["implementation_code"]

    def __str__(self) -> str:
        name = self.current.name if self.current_id and self.current else ""
        return f"{self.implementation_code} {name}".strip()


class VersionState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("待审核")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被替代")
    RETIRED = "retired", _("已停用")


OPEN_STATES = (VersionState.DRAFT, VersionState.IN_REVIEW)


class ItemVersion(models.Model):
    """Everything a handling guide says, as of one version of the item."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    state = models.CharField(
        _("状态"), max_length=16, choices=VersionState.choices, default=VersionState.DRAFT
    )
    # the six basic elements
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=32, choices=ItemType.choices)
    competent_department = models.CharField(_("主管部门"), max_length=100)
    exercise_level = models.CharField(
        _("行使层级"), max_length=16, choices=ExerciseLevel.choices, default=ExerciseLevel.CITY
    )
    power = models.ForeignKey(
        PowerItem,
        verbose_name=_("对应权力"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item_versions",
    )
    handling_suffix = models.CharField(_("业务办理项编码"), max_length=3, default="000")
    # the guide
    scope = models.TextField(_("适用范围"), blank=True)
    for_natural_persons = models.BooleanField(_("自然人可申请"), default=True)
    for_legal_persons = models.BooleanField(_("法人可申请"), default=False)
    conditions = models.TextField(_("受理条件"))
    acceptance_method = models.TextField(_("受理方式"), blank=True)
    legal_limit_days = models.PositiveIntegerField(
        _("法定办结时限（工作日）"), validators=[MaxValueValidator(365)]
    )
    promised_limit_days = models.PositiveIntegerField(
        _("承诺办结时限（工作日）"), validators=[MaxValueValidator(365)]
    )
    case_type = models.CharField(_("办件类型"), max_length=16, choices=CaseType.choices)
    is_free = models.BooleanField(_("不收费"), default=True)
    fee_amount = models.DecimalField(
        _("收费金额（元）"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    fee_basis = models.TextField(_("收费依据"), blank=True)
    visits = models.PositiveSmallIntegerField(
        _("到现场次数"), default=1, validators=[MaxValueValidator(5)]
    )
    online_depth = models.PositiveSmallIntegerField(
        _("网办深度"), choices=OnlineDepth.choices, default=OnlineDepth.III
    )
    special_procedures = models.JSONField(_("特别程序"), default=list, blank=True)
    result_name = models.CharField(_("结果名称"), max_length=200, blank=True)
    result_sample = models.ForeignKey(
        "files.StoredFile",
        verbose_name=_("结果样本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivery_methods = models.JSONField(_("送达方式"), default=list, blank=True)
    remedy = models.TextField(_("行政救济"), blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=50, blank=True)
    complaint_phone = models.CharField(_("投诉电话"), max_length=50, blank=True)
    address = models.CharField(_("办理地点"), max_length=200, blank=True)
    office_hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    windows = models.ManyToManyField(
        "orgs.Window", verbose_name=_("受理窗口"), blank=True, related_name="+"
    )
    keywords = models.CharField(_("关键词"), max_length=300, blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="+")
    life_events = models.ManyToManyField(
        LifeEvent, verbose_name=_("人生事件"), blank=True, related_name="+"
    )
    form_schema = models.JSONField(_("在线申请表单（JSON Schema）"), null=True, blank=True)
    form_ui = models.JSONField(_("表单界面提示"), null=True, blank=True)
    # the version's own history
    change_note = models.CharField(_("变更说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_comment = models.TextField(_("审核意见"), blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        ordering = ["item_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="catalog_version_number"),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(state__in=["draft", "in_review"]),
                name="catalog_one_open_version",
            ),
            models.CheckConstraint(
                condition=Q(promised_limit_days__lte=models.F("legal_limit_days")),
                name="catalog_promised_within_legal",
            ),
            models.CheckConstraint(
                condition=Q(online_depth__gte=1, online_depth__lte=4),
                name="catalog_online_depth_range",
            ),
        ]
        indexes = [models.Index(fields=["state", "item"], name="catalog_version_state")]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.state == VersionState.DRAFT

    @property
    def has_form(self) -> bool:
        return bool(self.form_schema)

    def special_procedure_labels(self) -> list[str]:
        labels = dict(SpecialProcedure.choices)
        return [str(labels.get(code, code)) for code in self.special_procedures]

    def delivery_method_labels(self) -> list[str]:
        labels = dict(DeliveryMethod.choices)
        return [str(labels.get(code, code)) for code in self.delivery_methods]

    @property
    def applicant_labels(self) -> list[str]:
        labels = []
        if self.for_natural_persons:
            labels.append(str(_("自然人")))
        if self.for_legal_persons:
            labels.append(str(_("法人和其他组织")))
        return labels


class VersionBasis(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="bases")
    basis = models.ForeignKey(LegalBasis, verbose_name=_("依据"), on_delete=models.PROTECT)
    article = models.CharField(_("条款"), max_length=200, blank=True)
    is_setting = models.BooleanField(_("设定依据"), default=True)

    class Meta:
        verbose_name = _("设定和实施依据")
        verbose_name_plural = _("设定和实施依据")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.basis_id} {self.article}"


class MaterialMedia(models.TextChoices):
    PAPER = "paper", _("纸质")
    ELECTRONIC = "electronic", _("电子")
    BOTH = "both", _("纸质或电子")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人自备")
    SHARED = "shared", _("共享数据获取")
    ELICENCE = "elicence", _("电子证照获取")
    GOVERNMENT = "government", _("政府部门核发")


#: sources whose material the department fetches (once-only): the applicant uploads nothing
SHARED_SOURCES = (MaterialSource.SHARED, MaterialSource.ELICENCE)
#: a sharing catalogue resource code (10 or 13 digits, sharing.models.RESOURCE_CODE_PATTERN)
SHARED_RESOURCE_CODE = r"^[1-9]\d{9}(\d{3})?$"


class Material(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    order = models.PositiveIntegerField(_("序号"), default=0)
    name = models.CharField(_("材料名称"), max_length=200)
    originals = models.PositiveSmallIntegerField(_("原件份数"), default=1)
    copies = models.PositiveSmallIntegerField(_("复印件份数"), default=0)
    media = models.CharField(
        _("材料形式"), max_length=16, choices=MaterialMedia.choices, default=MaterialMedia.BOTH
    )
    is_required = models.BooleanField(_("必要"), default=True)
    condition = models.CharField(_("提交条件"), max_length=300, blank=True)
    source = models.CharField(
        _("来源渠道"),
        max_length=16,
        choices=MaterialSource.choices,
        default=MaterialSource.APPLICANT,
    )
    #: the sharing catalogue resource (``sharing.Resource.code``) that supplies the material
    #: when its source is shared data or an e-licence; blank: the department obtains it
    #: by other means (the applicant still uploads nothing)
    shared_resource_code = models.CharField(
        _("共享资源代码"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(SHARED_RESOURCE_CODE, _("资源代码应为10位或13位数字"))],
        help_text=_("来源为共享数据或电子证照时，提供该材料的信息资源代码"),
    )
    acceptance_standard = models.TextField(_("受理标准"), blank=True)
    template_file = models.ForeignKey(
        "files.StoredFile",
        verbose_name=_("空白表格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sample_file = models.ForeignKey(
        "files.StoredFile",
        verbose_name=_("示例样表"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.shared_resource_code and self.source not in SHARED_SOURCES:
            raise ValidationError(
                {
                    "shared_resource_code": _(
                        "只有来源为共享数据或电子证照的材料可以填写共享资源代码"
                    )
                }
            )


class ProcessStep(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("序号"), default=0)
    name = models.CharField(_("环节名称"), max_length=100)
    description = models.TextField(_("办理内容"), blank=True)
    days = models.PositiveIntegerField(_("环节时限（工作日）"), default=0)

    class Meta:
        verbose_name = _("办理流程环节")
        verbose_name_plural = _("办理流程")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Bundle(models.Model):
    """An “一件事一次办” bundle: items of several departments applied for together."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    audience = models.CharField(_("服务对象"), max_length=16, choices=Audience.choices)
    description = models.TextField(_("说明"), blank=True)
    joint_limit_days = models.PositiveIntegerField(_("联办时限（工作日）"), default=45)
    lead_department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("牵头部门"),
        on_delete=models.PROTECT,
        related_name="catalog_led_bundles",
    )
    items = models.ManyToManyField(ServiceItem, verbose_name=_("包含事项"), related_name="bundles")
    life_event = models.ForeignKey(
        LifeEvent,
        verbose_name=_("人生事件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bundles",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事一次办")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ImportState(models.TextChoices):
    PENDING = "pending", _("排队中")
    VALIDATING = "validating", _("校验中")
    IMPORTING = "importing", _("导入中")
    DONE = "done", _("已完成")
    REJECTED = "rejected", _("校验未通过")
    FAILED = "failed", _("失败")


class ImportJob(models.Model):
    """An Excel import: validated whole first, then applied in one transaction."""

    file = models.ForeignKey(
        "files.StoredFile", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=ImportState.choices, default=ImportState.PENDING
    )
    publish = models.BooleanField(_("导入后直接发布"), default=False)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.pk} {self.state}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)
