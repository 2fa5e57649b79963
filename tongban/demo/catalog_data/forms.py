# ruff: noqa: E501 - data tables read better one record per line
"""Online application forms (JSON Schema draft 2020-12 with Chinese titles).

Fields are written as ``(name, title, kind, required)``; kinds: text, textarea, date, id
(resident id number), uscc, mobile, email, int, money, bool, ``enum:a,b`` (one of),
``multi:a,b`` (several of), ``obj:<group>`` (one level of nested fields) and
``list:<group>`` (a table of rows) where ``<group>`` is a key of ``GROUPS``.
"""

from __future__ import annotations

Field = tuple[str, str, str, bool]

APPLICANT: list[Field] = [
    ("applicant_name", "申请人姓名", "text", True),
    ("applicant_id", "公民身份号码", "id", True),
    ("mobile", "手机号码", "mobile", True),
]
ENTERPRISE: list[Field] = [
    ("enterprise_name", "单位名称", "text", True),
    ("uscc", "统一社会信用代码", "uscc", True),
    ("contact_name", "经办人姓名", "text", True),
    ("contact_mobile", "经办人手机号码", "mobile", True),
]
DELIVERY: Field = ("delivery", "结果领取方式", "enum:窗口领取,邮寄送达,网上送达", True)

GROUPS: dict[str, list[Field]] = {
    "investor": [
        ("name", "股东名称或姓名", "text", True),
        ("id_number", "证件号码", "text", True),
        ("amount", "认缴出资额（万元）", "money", True),
        ("method", "出资方式", "enum:货币,实物,知识产权,土地使用权,股权", True),
    ],
    "officer": [
        ("name", "姓名", "text", True),
        ("id_number", "公民身份号码", "id", True),
        ("position", "职务", "enum:执行董事,董事长,董事,经理,监事,财务负责人", True),
    ],
    "seal": [
        ("kind", "印章种类", "enum:企业公章,财务专用章,发票专用章,合同专用章,法定代表人名章", True),
        ("count", "数量", "int", True),
    ],
    "employee": [
        ("name", "姓名", "text", True),
        ("id_number", "公民身份号码", "id", True),
        ("start", "参保起始日期", "date", True),
        ("wage", "月缴费工资（元）", "money", True),
    ],
    "parent": [
        ("name", "姓名", "text", True),
        ("id_number", "公民身份号码", "id", True),
        ("nationality", "国籍", "text", False),
    ],
    "address": [
        ("district", "所在区", "enum:东湖区,西山区,南江区", True),
        ("street", "街道（乡镇）", "text", True),
        ("detail", "详细地址", "text", True),
    ],
    "family": [
        ("name", "姓名", "text", True),
        ("relation", "与申请人关系", "enum:配偶,子女,父母,其他", True),
        ("id_number", "公民身份号码", "id", True),
        ("income", "月收入（元）", "money", False),
    ],
    "party": [
        ("name", "姓名", "text", True),
        ("id_number", "公民身份号码", "id", True),
        ("mobile", "手机号码", "mobile", True),
    ],
}

BUSINESS_SCOPE = "multi:餐饮服务,预包装食品销售,散装食品销售,保健食品销售,特殊医学用途配方食品销售,热食类食品制售,冷食类食品制售,生食类食品制售,半成品制售,自制饮品制售"

# key: (title, fields)
FORMS: dict[str, tuple[str, list[Field]]] = {
    # 企业开办
    "company_setup": (
        "企业设立登记申请表",
        [
            ("name", "企业名称", "text", True),
            (
                "company_type",
                "企业类型",
                "enum:有限责任公司,股份有限公司,个人独资企业,合伙企业",
                True,
            ),
            ("address", "住所", "obj:address", True),
            ("capital", "注册资本（万元）", "money", True),
            ("scope", "经营范围", "textarea", True),
            ("representative", "法定代表人姓名", "text", True),
            ("representative_id", "法定代表人公民身份号码", "id", True),
            ("representative_mobile", "法定代表人手机号码", "mobile", True),
            ("email", "联系邮箱", "email", False),
            ("investors", "股东（发起人）", "list:investor", True),
            ("officers", "董事、监事、经理", "list:officer", True),
            ("need_seal", "同时申请刻制印章", "bool", False),
            ("need_invoice", "同时申领发票", "bool", False),
            ("need_insurance", "同时办理社保登记", "bool", False),
            ("need_fund", "同时办理住房公积金缴存登记", "bool", False),
            DELIVERY,
        ],
    ),
    "seal_filing": (
        "印章刻制申请表",
        [
            *ENTERPRISE,
            ("seals", "刻制印章", "list:seal", True),
            ("material", "印章材质", "enum:铜质,原子,光敏,橡胶", True),
            ("pickup", "领取方式", "enum:刻章企业自取,政务服务中心领取,免费邮寄", True),
        ],
    ),
    "tax_registration": (
        "新办纳税人涉税事项确认表",
        [
            *ENTERPRISE,
            ("accounting", "会计核算方式", "enum:独立核算自负盈亏,非独立核算", True),
            ("finance_name", "财务负责人姓名", "text", True),
            ("finance_id", "财务负责人公民身份号码", "id", True),
            ("tax_person_name", "办税人员姓名", "text", True),
            ("tax_person_id", "办税人员公民身份号码", "id", True),
            ("vat_kind", "增值税纳税人类型", "enum:小规模纳税人,一般纳税人", True),
        ],
    ),
    "tax_invoice": (
        "发票领用申请表",
        [
            *ENTERPRISE,
            (
                "invoice_kinds",
                "发票种类",
                "multi:数电发票（增值税专用发票）,数电发票（普通发票）,增值税普通发票（卷式）",
                True,
            ),
            ("monthly_amount", "预计月开票金额（万元）", "money", True),
            ("need_ukey", "申领税务UKey", "bool", False),
        ],
    ),
    "employer_insurance": (
        "单位社会保险登记表",
        [
            *ENTERPRISE,
            ("start", "成立日期", "date", True),
            ("address", "单位地址", "obj:address", True),
            (
                "insurances",
                "参保险种",
                "multi:企业职工基本养老保险,失业保险,工伤保险,职工基本医疗保险（含生育保险）",
                True,
            ),
            ("employees", "首批参保职工", "list:employee", False),
        ],
    ),
    "fund_employer": (
        "住房公积金单位缴存登记表",
        [
            *ENTERPRISE,
            ("rate", "单位缴存比例（%）", "int", True),
            ("first_month", "首次缴存年月", "date", True),
            (
                "bank",
                "受托银行",
                "enum:中国工商银行,中国农业银行,中国银行,中国建设银行,交通银行",
                True,
            ),
            ("employees", "首批缴存职工", "list:employee", False),
        ],
    ),
    # 新生儿出生
    "birth_certificate": (
        "出生医学证明首次签发登记表",
        [
            ("child_name", "新生儿姓名", "text", True),
            ("child_sex", "新生儿性别", "enum:男,女", True),
            ("birth_date", "出生日期", "date", True),
            ("weight", "出生体重（克）", "int", True),
            ("gestation", "出生孕周", "int", True),
            ("hospital", "出生地点（医疗机构）", "text", True),
            ("mother", "母亲", "obj:parent", True),
            ("father", "父亲", "obj:parent", False),
        ],
    ),
    "birth_registration": (
        "出生登记申报表",
        [
            ("child_name", "新生儿姓名", "text", True),
            ("child_sex", "性别", "enum:男,女", True),
            ("birth_date", "出生日期", "date", True),
            ("certificate_no", "出生医学证明编号", "text", True),
            ("follow", "随父或随母落户", "enum:随父,随母", True),
            ("household_head", "户主姓名", "text", True),
            ("parents", "父母", "list:parent", True),
            ("mobile", "联系电话", "mobile", True),
            DELIVERY,
        ],
    ),
    "newborn_insurance": (
        "城乡居民医保参保登记表（新生儿）",
        [
            ("child_name", "新生儿姓名", "text", True),
            ("child_id", "新生儿公民身份号码", "id", True),
            ("birth_date", "出生日期", "date", True),
            ("guardian", "监护人", "obj:parent", True),
            ("mobile", "联系电话", "mobile", True),
            ("pay_now", "立即缴纳当年度医保费", "bool", False),
        ],
    ),
    "social_card": (
        "社会保障卡申领表",
        [
            *APPLICANT,
            (
                "bank",
                "合作银行",
                "enum:中国工商银行,中国农业银行,中国银行,中国建设银行,示范市农村商业银行",
                True,
            ),
            ("is_minor", "为未成年人申领", "bool", False),
            ("guardian", "监护人", "obj:parent", False),
            ("address", "邮寄地址", "obj:address", False),
            DELIVERY,
        ],
    ),
    # 其他常办事项
    "food_business": (
        "食品经营许可申请书",
        [
            *ENTERPRISE,
            ("shop_name", "经营场所名称", "text", True),
            ("address", "经营场所", "obj:address", True),
            ("area", "经营面积（平方米）", "number_area", True),
            ("main_form", "主体业态", "enum:食品销售经营者,餐饮服务经营者,单位食堂", True),
            ("projects", "经营项目", BUSINESS_SCOPE, True),
            ("manager", "食品安全管理人员姓名", "text", True),
            ("manager_id", "食品安全管理人员公民身份号码", "id", True),
            ("online", "是否网络经营", "bool", False),
        ],
    ),
    "sole_trader": (
        "个体工商户登记申请书",
        [
            *APPLICANT,
            ("name", "个体工商户名称", "text", False),
            ("address", "经营场所", "obj:address", True),
            ("form", "组成形式", "enum:个人经营,家庭经营", True),
            ("capital", "资金数额（万元）", "money", True),
            ("scope", "经营范围", "textarea", True),
            ("employees", "从业人数", "int", False),
        ],
    ),
    "company_change": (
        "企业变更登记申请表",
        [
            *ENTERPRISE,
            (
                "items",
                "变更事项",
                "multi:名称,住所,法定代表人,注册资本,经营范围,企业类型,股东",
                True,
            ),
            ("before", "变更前内容", "textarea", True),
            ("after", "变更后内容", "textarea", True),
            ("decision_date", "变更决议作出日期", "date", True),
        ],
    ),
    "food_filing": (
        "仅销售预包装食品备案信息采集表",
        [
            *ENTERPRISE,
            ("address", "经营场所", "obj:address", True),
            (
                "kinds",
                "经营品种",
                "multi:预包装食品（含冷藏冷冻食品）,预包装食品（不含冷藏冷冻食品）,特殊食品",
                True,
            ),
            ("online", "是否网络经营", "bool", False),
        ],
    ),
    "residence_permit": (
        "居住证申领登记表",
        [
            *APPLICANT,
            ("reason", "申领事由", "enum:就业,就读,居住", True),
            ("address", "居住地址", "obj:address", True),
            ("since", "来本市居住日期", "date", True),
            ("employer", "工作单位或就读学校", "text", False),
        ],
    ),
    "unemployment_registration": (
        "失业登记表",
        [
            *APPLICANT,
            ("education", "文化程度", "enum:初中及以下,高中（中专、技校）,大专,本科,研究生", True),
            ("last_employer", "原工作单位", "text", False),
            ("end_date", "终止（解除）劳动关系日期", "date", False),
            (
                "reason",
                "失业原因",
                "enum:劳动合同期满,单位解除劳动合同,本人辞职,单位破产或关闭,其他",
                True,
            ),
            ("wishes", "求职意向", "multi:技能培训,职业介绍,创业服务,公益性岗位", False),
        ],
    ),
    "unemployment_benefit": (
        "失业保险金申领表",
        [
            *APPLICANT,
            ("end_date", "终止（解除）劳动关系日期", "date", True),
            (
                "reason",
                "非本人意愿中断就业原因",
                "enum:劳动合同期满终止,用人单位解除,用人单位违法迫使职工辞职,其他法定情形",
                True,
            ),
            ("bank_account", "社会保障卡银行账号", "text", True),
            ("looking_for_work", "有求职要求", "bool", True),
        ],
    ),
    "resident_insurance": (
        "城乡居民基本医疗保险参保登记表",
        [
            *APPLICANT,
            (
                "category",
                "参保人员类别",
                "enum:一般居民,中小学生,大学生,低保对象,特困人员,重度残疾人",
                True,
            ),
            ("address", "居住地址", "obj:address", True),
            ("family", "同时参保的家庭成员", "list:family", False),
        ],
    ),
    "marriage": (
        "结婚登记预约申请表",
        [
            ("man", "男方", "obj:party", True),
            ("woman", "女方", "obj:party", True),
            ("date", "预约登记日期", "date", True),
            ("office", "婚姻登记处", "enum:示范市婚姻登记处,东湖区婚姻登记处", True),
            ("ceremony", "需要颁证仪式", "bool", False),
        ],
    ),
    "school_enrol": (
        "义务教育阶段新生入学登记表",
        [
            ("child_name", "儿童姓名", "text", True),
            ("child_id", "儿童公民身份号码", "id", True),
            ("grade", "报名学段", "enum:小学一年级,初中一年级", True),
            ("basis", "入学依据", "enum:户籍与房产一致,户籍与房产不一致,居住证,其他", True),
            ("address", "居住地址", "obj:address", True),
            ("guardians", "监护人", "list:party", True),
            ("special", "特殊情况", "multi:军人子女,烈士子女,残疾儿童,多孩同校", False),
        ],
    ),
    "fund_withdraw": (
        "住房公积金提取申请表",
        [
            *APPLICANT,
            ("reason", "提取原因", "enum:租房,购房,偿还住房贷款,离职,退休", True),
            ("amount", "提取金额（元）", "money", True),
            ("monthly_rent", "月租金（元）", "money", False),
            ("bank_account", "收款银行账号", "text", True),
        ],
    ),
    "construction_permit": (
        "建筑工程施工许可申请表",
        [
            *ENTERPRISE,
            ("project", "工程名称", "text", True),
            ("address", "建设地址", "obj:address", True),
            ("area", "建筑面积（平方米）", "number_area", True),
            ("cost", "合同价格（万元）", "money", True),
            ("start", "计划开工日期", "date", True),
            ("end", "计划竣工日期", "date", True),
            ("contractor", "施工单位", "text", True),
            ("supervisor", "监理单位", "text", False),
        ],
    ),
    "legal_aid": (
        "法律援助申请表",
        [
            *APPLICANT,
            (
                "matter",
                "案件类型",
                "enum:劳动报酬,工伤赔偿,婚姻家庭,交通事故,医疗纠纷,刑事辩护,其他",
                True,
            ),
            ("facts", "案情及申请理由", "textarea", True),
            ("monthly_income", "家庭人均月收入（元）", "money", True),
            (
                "special",
                "免予经济困难审查情形",
                "multi:英雄烈士近亲属,追索农民工劳动报酬,见义勇为",
                False,
            ),
        ],
    ),
    "pension_start": (
        "职工基本养老保险待遇申领表",
        [
            *APPLICANT,
            ("retire_date", "退休日期", "date", True),
            ("kind", "退休类别", "enum:正常退休,特殊工种提前退休,病退", True),
            ("bank_account", "社会保障卡银行账号", "text", True),
        ],
    ),
    "dibao": (
        "最低生活保障申请表",
        [
            *APPLICANT,
            ("address", "居住地址", "obj:address", True),
            ("reason", "申请理由", "textarea", True),
            ("family", "共同生活家庭成员", "list:family", True),
            ("consent", "同意授权核对家庭经济状况", "bool", True),
        ],
    ),
    "work_injury": (
        "工伤认定申请表",
        [
            *APPLICANT,
            ("employer", "用人单位名称", "text", True),
            ("employer_uscc", "用人单位统一社会信用代码", "uscc", True),
            ("accident_date", "事故发生日期", "date", True),
            ("place", "事故发生地点", "text", True),
            ("description", "事故经过", "textarea", True),
            ("hurt", "受伤部位", "multi:头部,上肢,下肢,躯干,其他", True),
        ],
    ),
}


def _property(kind: str, title: str) -> dict[str, object]:
    if kind.startswith("enum:"):
        return {"type": "string", "title": title, "enum": kind[5:].split(",")}
    if kind.startswith("multi:"):
        return {
            "type": "array",
            "title": title,
            "items": {"type": "string", "enum": kind[6:].split(",")},
            "uniqueItems": True,
        }
    if kind.startswith("obj:"):
        return {"title": title, **_object(GROUPS[kind[4:]])}
    if kind.startswith("list:"):
        return {"type": "array", "title": title, "items": _object(GROUPS[kind[5:]]), "minItems": 1}
    simple: dict[str, dict[str, object]] = {
        "text": {"type": "string", "maxLength": 100},
        "textarea": {"type": "string", "maxLength": 2000},
        "date": {"type": "string", "format": "date"},
        "id": {"type": "string", "format": "id-number"},
        "uscc": {"type": "string", "format": "uscc"},
        "mobile": {"type": "string", "format": "mobile"},
        "email": {"type": "string", "format": "email"},
        "int": {"type": "integer", "minimum": 0},
        "money": {"type": "number", "minimum": 0},
        "number_area": {"type": "number", "minimum": 1},
        "bool": {"type": "boolean"},
    }
    return {"title": title, **simple[kind]}


def _object(fields: list[Field]) -> dict[str, object]:
    return {
        "type": "object",
        "properties": {name: _property(kind, title) for name, title, kind, _ in fields},
        "required": [name for name, _, _, required in fields if required],
    }


def form_schema(key: str) -> dict[str, object]:
    title, fields = FORMS[key]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        **_object(fields),
    }


def form_ui(key: str) -> dict[str, object]:
    _, fields = FORMS[key]
    ui: dict[str, object] = {"order": [name for name, _, _, _ in fields]}
    widgets = {name: "textarea" for name, _, kind, _ in fields if kind == "textarea"}
    if widgets:
        ui["widgets"] = widgets
    return ui
