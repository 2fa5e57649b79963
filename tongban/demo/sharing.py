"""The demo city's data sharing: the resource catalogue, the departments' systems, requests
and grants, and thirty days of gateway calls.

Idempotent: resources, systems and grants are found by their codes, requests by their
purpose, the call history by its request ids ("demo-…"); a second run creates nothing.
Written directly to the models (the catalogue and grant services ask for signed-in
stewards with scoped permissions, which a loader does not have), each row with its audit
entry; the call history is written in bulk with each row's SM3 digest
(``gateway_log.call_digest``), one audit entry for the whole history, then sealed and
rolled up into the daily statistics by the jobs' own functions.

The 新生儿出生 bundle's birth and household materials name the resources below
(``tongban.demo.catalog.ONCE_ONLY_MATERIALS``); the handling departments' platform systems
("<部门>网上审批系统") hold the grants that let the once-only fetch work.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TextIO

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from tongban.apps.sharing.models import (
    CallResult,
    ConsumerSystem,
    GatewayCall,
    GatewayCallSubject,
    Grant,
    InfoItem,
    RequestStatus,
    Resource,
    ResourceClass,
    ResourceVersion,
    ShareMethod,
    ShareType,
    SharingRequest,
    VersionStatus,
)
from tongban.platform.accounts.models import LegalPerson, NaturalPerson, User
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department

SEED = 20260601
HISTORY_DAYS = 30
CALLS_PER_DAY = 140  # about 4,200 calls over the month
REQUEST_PREFIX = "demo-"
SUBJECT_PURPOSE = "sharing.subject"
MARKER = "demo.sharing.history"

# resource codes the once-only materials use (tongban.demo.catalog.ONCE_ONLY_MATERIALS)
PERSON = "1010010001"
HOUSEHOLD_REGISTER = "1010010002"
HOUSEHOLD_MEMBERS = "1010020001"
BIRTH = "1010030001"
LEGAL_PERSON = "1020010001"
LICENCES = "1030010001"
ADDRESS = "1040010001"

# data type and sensitivity shorthands of the item lists below
TYPES = {
    "s": "string",
    "d": "date",
    "n": "decimal",
    "i": "integer",
    "t": "datetime",
    "b": "boolean",
}
LEVELS = {"o": "public", "i": "internal", "s": "sensitive", "p": "personal"}


@dataclass(frozen=True)
class Entry:
    code: str
    provider: str  # department code
    name: str
    summary: str
    items: str  # "code:名称:type:sensitivity;…"
    share_type: str = ShareType.UNCONDITIONAL
    conditions: str = ""
    service_code: str = ""
    cycle: str = "daily"
    share_method: str = ShareMethod.API
    open_type: str = "closed"
    format: str = "database"
    #: a first version (superseded) differing by these items, and why it changed
    v1_drop: tuple[str, ...] = ()
    change_note: str = ""
    related: tuple[str, ...] = ()


PERSONAL_BASIS = (
    "仅限依法履行职责需要，按照最小必要原则申请信息项；"
    "不得用于申请用途以外的其他用途，不得向第三方提供。"
)

ENTRIES: list[Entry] = [
    # ------------------------------------------------------------------ base (基础信息资源)
    Entry(
        PERSON,
        "GAJ",
        "人口基本信息",
        "全市户籍人口和登记居住人口的身份、出生、婚姻、联系和居住信息，由公安机关户籍管理部门汇集维护。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;gender:性别:s:i;ethnicity:民族:s:i;"
        "birth_date:出生日期:d:s;birth_place:出生地:s:i;marital_status:婚姻状况:s:s;"
        "phone:联系电话:s:p;residence_address:居住地址:s:p;death_date:死亡日期:d:s",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        "basedata.person",
        "realtime",
        v1_drop=("phone", "residence_address"),
        change_note="增加联系电话和居住地址信息项",
        related=(HOUSEHOLD_REGISTER, HOUSEHOLD_MEMBERS),
    ),
    Entry(
        HOUSEHOLD_REGISTER,
        "GAJ",
        "户籍登记信息",
        "居民户口簿登记事项：户号、户籍地址、与户主关系，用于办理落户、参保、社保卡等业务时免交户口簿。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;household_number:户号:s:s;"
        "household_address:户籍地址:s:s;relation_to_head:与户主关系:s:i",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        "basedata.person",
        "realtime",
        related=(PERSON, HOUSEHOLD_MEMBERS),
    ),
    Entry(
        HOUSEHOLD_MEMBERS,
        "GAJ",
        "户籍家庭成员信息",
        "按户号查询同户全部成员的基本信息和与户主关系。",
        "household_number:户号:s:s;id_number:公民身份号码:s:p;name:姓名:s:p;gender:性别:s:i;"
        "birth_date:出生日期:d:s;relation_to_head:与户主关系:s:i",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        "basedata.household",
        "realtime",
    ),
    Entry(
        BIRTH,
        "WJW",
        "出生医学证明信息",
        "助产机构签发的出生医学证明登记信息，按父亲或母亲公民身份号码查询。",
        "certificate_number:出生医学证明编号:s:s;newborn_name:新生儿姓名:s:p;"
        "newborn_gender:新生儿性别:s:i;birth_date:出生日期:d:s;birth_place:出生地点:s:i;"
        "hospital:助产机构:s:i;mother_name:母亲姓名:s:p;mother_id_number:母亲公民身份号码:s:p;"
        "father_name:父亲姓名:s:p;father_id_number:父亲公民身份号码:s:p",
        ShareType.CONDITIONAL,
        "用于新生儿出生“一件事”及相关公共服务事项的受理审查；" + PERSONAL_BASIS,
        "basedata.birth",
        "daily",
        v1_drop=("hospital",),
        change_note="增加助产机构信息项",
    ),
    Entry(
        LEGAL_PERSON,
        "SCJ",
        "法人基本信息",
        "企业、个体工商户、农民专业合作社等市场主体的登记信息。",
        "uscc:统一社会信用代码:s:o;name:名称:s:o;entity_type:市场主体类型:s:o;"
        "legal_representative:法定代表人:s:o;legal_representative_id_number:法定代表人证件号码:s:p;"
        "registered_address:住所:s:o;registered_capital:注册资本（万元）:n:o;"
        "established_on:成立日期:d:o;business_scope:经营范围:s:o;status:登记状态:s:o;"
        "registration_authority:登记机关:s:o",
        service_code="basedata.legal_person",
        cycle="realtime",
        open_type="open",
        v1_drop=("registration_authority", "legal_representative_id_number"),
        change_note="增加登记机关和法定代表人证件号码",
    ),
    Entry(
        LICENCES,
        "ZSJ",
        "电子证照信息",
        "全市电子证照库的证照目录信息：证照标识、名称、持证主体、签发机关、有效期和状态。",
        "identifier:证照标识:s:i;number:证照编号:s:i;name:证照名称:s:o;type_code:证照类型代码:s:o;"
        "holder_name:持证主体:s:p;holder_id_number:持证主体证件号码:s:p;issuer_name:签发机关:s:o;"
        "issued_on:签发日期:d:i;valid_until:有效期至:d:i;status:证照状态:s:i",
        ShareType.CONDITIONAL,
        "用于政务服务事项办理中免交证照，持证主体本人申请或依法履职需要。",
        "licences.by_holder",
        "realtime",
    ),
    Entry(
        ADDRESS,
        "ZRZYJ",
        "标准地址信息",
        "全市标准地址库：门楼牌地址、所属区县、街道、社区和坐标。",
        "code:地址编码:s:o;full_address:标准地址:s:o;district:区县:s:o;street:街道（乡镇）:s:o;"
        "community:社区（村）:s:o;longitude:经度:n:o;latitude:纬度:n:o",
        service_code="basedata.address",
        cycle="weekly",
        open_type="open",
    ),
    Entry(
        "1040020001",
        "ZRZYJ",
        "不动产单元空间信息",
        "不动产单元的宗地、房屋空间位置和界址信息，供规划审批和登记业务使用。",
        "unit_number:不动产单元号:s:i;parcel_code:宗地代码:s:i;location:坐落:s:i;"
        "land_area:宗地面积（平方米）:n:i;building_area:建筑面积（平方米）:n:i;geometry:空间范围:s:s",
        ShareType.CONDITIONAL,
        "限规划、自然资源、住建、税务部门依法履职使用，按宗地或单元号逐条查询。",
        cycle="monthly",
        share_method=ShareMethod.EXCHANGE,
        format="image",
    ),
    Entry(
        "1050010001",
        "FGW",
        "社会信用信息",
        "市场主体和自然人的公共信用综合评价、红名单和严重失信主体名单信息。",
        "subject_code:主体代码:s:o;subject_name:主体名称:s:o;credit_level:公共信用等级:s:o;"
        "red_list:守信激励名单:b:o;black_list:严重失信主体名单:b:o;updated_on:更新日期:d:o",
        cycle="daily",
        open_type="open",
    ),
    # ------------------------------------------------------------- thematic (主题信息资源)
    Entry(
        "2010010001",
        "RSJ",
        "社会保障卡信息",
        "社会保障卡的持卡人、卡号、发卡银行和卡状态。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;card_number:社会保障卡卡号:s:s;"
        "bank:发卡银行:s:i;status:卡状态:s:i;issued_on:发卡日期:d:i",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
    ),
    Entry(
        "2010010002",
        "RSJ",
        "养老保险参保缴费信息",
        "企业职工和城乡居民基本养老保险参保状态、缴费年限和缴费基数。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;insurance_type:险种:s:i;status:参保状态:s:i;"
        "employer:参保单位:s:i;paid_months:累计缴费月数:i:s;base:缴费基数（元）:n:s",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        cycle="monthly",
    ),
    Entry(
        "2010020001",
        "YBJ",
        "基本医疗保险参保信息",
        "职工医保和城乡居民医保的参保登记、参保状态和待遇享受起止日期。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;insurance_type:参保险种:s:i;status:参保状态:s:i;"
        "start_on:参保日期:d:i;benefit_from:待遇享受开始日期:d:i",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        v1_drop=("benefit_from",),
        change_note="增加待遇享受开始日期",
    ),
    Entry(
        "2010020002",
        "YBJ",
        "医保定点医药机构信息",
        "全市医保定点医疗机构和定点零售药店名录。",
        "code:机构编码:s:o;name:机构名称:s:o;kind:机构类别:s:o;address:地址:s:o;level:医院等级:s:o",
        cycle="weekly",
        open_type="open",
        format="spreadsheet",
    ),
    Entry(
        "2020010001",
        "MZJ",
        "婚姻登记信息",
        "结婚、离婚、补领婚姻登记证的登记记录。",
        "certificate_number:婚姻登记证字号:s:s;kind:登记类别:s:s;registered_on:登记日期:d:s;"
        "party_a_id_number:男方公民身份号码:s:p;party_a_name:男方姓名:s:p;"
        "party_b_id_number:女方公民身份号码:s:p;party_b_name:女方姓名:s:p",
        ShareType.CONDITIONAL,
        "仅用于户籍、住房、公积金、继承公证等需核验婚姻状况的业务；" + PERSONAL_BASIS,
    ),
    Entry(
        "2020010002",
        "MZJ",
        "最低生活保障对象信息",
        "城乡最低生活保障、特困供养对象的认定信息和保障金额。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;kind:保障类别:s:s;household_size:保障人口:i:s;"
        "amount:月保障金额（元）:n:s;approved_on:认定日期:d:s",
        ShareType.CONDITIONAL,
        "限医保、教育、住建部门用于落实救助帮扶和费用减免，不得公开或用于其他用途。",
        cycle="monthly",
    ),
    Entry(
        "2020020001",
        "WJW",
        "死亡医学证明信息",
        "医疗卫生机构出具的居民死亡医学证明（推断）书信息。",
        "certificate_number:证明编号:s:s;id_number:死者公民身份号码:s:p;name:死者姓名:s:p;"
        "death_date:死亡日期:d:s;death_place:死亡地点:s:s;issuer:出具机构:s:i",
        ShareType.CONDITIONAL,
        "用于户口注销、社保待遇停发、殡葬等“身后一件事”业务；" + PERSONAL_BASIS,
    ),
    Entry(
        "2030010001",
        "BDC",
        "不动产登记信息",
        "不动产权利人、权利类型、坐落、面积和抵押查封状态。",
        "certificate_number:不动产权证书号:s:i;unit_number:不动产单元号:s:i;owner_name:权利人:s:p;"
        "owner_id_number:权利人证件号码:s:p;location:坐落:s:s;area:面积（平方米）:n:s;"
        "right_type:权利类型:s:i;mortgaged:抵押状态:b:s;seized:查封状态:b:s",
        ShareType.CONDITIONAL,
        "依据《不动产登记暂行条例》第二十七条，用于办理与不动产有关的政务服务事项。",
        v1_drop=("seized",),
        change_note="增加查封状态",
    ),
    Entry(
        "2030010002",
        "GJJ",
        "住房公积金缴存信息",
        "职工住房公积金账户状态、缴存基数、月缴存额和余额。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;account_status:账户状态:s:i;employer:缴存单位:s:i;"
        "base:缴存基数（元）:n:s;monthly:月缴存额（元）:n:s;balance:账户余额（元）:n:s",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        cycle="monthly",
    ),
    Entry(
        "2030020001",
        "ZJJ",
        "保障性住房资格信息",
        "公共租赁住房、保障性租赁住房的申请资格审核结果和配租信息。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;kind:保障方式:s:i;qualified_on:资格确认日期:d:i;"
        "project:配租项目:s:i",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
    ),
    Entry(
        "2040010001",
        "TSJ",
        "纳税信用等级信息",
        "纳税人年度纳税信用评价等级。",
        "uscc:纳税人识别号:s:o;name:纳税人名称:s:o;year:评价年度:i:o;level:纳税信用级别:s:o",
        cycle="yearly",
        open_type="open",
    ),
    Entry(
        "2040010002",
        "TSJ",
        "欠税公告信息",
        "按《税收征收管理法》第四十五条公告的欠税纳税人信息。",
        "uscc:纳税人识别号:s:o;name:纳税人名称:s:o;tax_type:欠税税种:s:o;amount:欠税余额（元）:n:o",
        cycle="quarterly",
        open_type="open",
        format="spreadsheet",
    ),
    Entry(
        "2040020001",
        "SCJ",
        "行政处罚信息",
        "市场监管领域行政处罚决定的公示信息。",
        "decision_number:处罚决定书文号:s:o;party_name:当事人名称:s:o;party_code:统一社会信用代码:s:o;"
        "violation:违法行为类型:s:o;penalty:处罚内容:s:o;decided_on:处罚决定日期:d:o",
        open_type="open",
        v1_drop=("party_code",),
        change_note="增加当事人统一社会信用代码",
    ),
    Entry(
        "2050010001",
        "JYJ",
        "义务教育学籍信息",
        "全市义务教育阶段学生学籍和在读学校。",
        "student_id:全国学籍号:s:s;id_number:公民身份号码:s:p;name:姓名:s:p;school:就读学校:s:i;"
        "grade:年级:s:i;enrolled_on:入学日期:d:i",
        ShareType.CONDITIONAL,
        "用于入学、转学、资助等教育服务和未成年人保护；" + PERSONAL_BASIS,
        cycle="monthly",
    ),
    Entry(
        "2050010002",
        "JYJ",
        "教师资格证书信息",
        "教师资格认定结果和证书信息。",
        "certificate_number:教师资格证书号码:s:o;name:姓名:s:p;subject:任教学科:s:o;"
        "level:资格种类:s:o;issued_on:认定日期:d:o",
        cycle="monthly",
    ),
    Entry(
        "2060010001",
        "TYJ",
        "退役军人优抚对象信息",
        "重点优抚对象的类别、优抚待遇和发放信息。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;category:优抚类别:s:s;benefit:月抚恤补助（元）:n:s",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        cycle="monthly",
    ),
    Entry(
        "2070010001",
        "YJJ",
        "安全生产许可信息",
        "危险化学品、烟花爆竹、非煤矿山等安全生产许可证信息。",
        "licence_number:许可证编号:s:o;uscc:统一社会信用代码:s:o;name:企业名称:s:o;scope:许可范围:s:o;"
        "valid_until:有效期至:d:o",
        open_type="open",
    ),
    Entry(
        "2070020001",
        "SCJ",
        "特种设备使用登记信息",
        "锅炉、压力容器、电梯、起重机械等特种设备的使用登记和检验状态。",
        "registration_number:使用登记证编号:s:o;device_code:设备代码:s:o;user_name:使用单位:s:o;"
        "kind:设备类别:s:o;next_inspection:下次检验日期:d:o",
    ),
    Entry(
        "2080010001",
        "HJJ",
        "排污许可信息",
        "排污单位的排污许可证及许可排放量。",
        "licence_number:许可证编号:s:o;uscc:统一社会信用代码:s:o;name:单位名称:s:o;"
        "pollutants:主要污染物:s:o;valid_until:有效期至:d:o",
        open_type="open",
    ),
    Entry(
        "2080010002",
        "HJJ",
        "环境影响评价审批信息",
        "建设项目环境影响报告书（表）审批决定。",
        "approval_number:批复文号:s:o;project:项目名称:s:o;builder:建设单位:s:o;approved_on:批复日期:d:o",
        open_type="open",
    ),
    Entry(
        "2090010001",
        "JTJ",
        "道路运输经营许可信息",
        "道路旅客运输、货物运输经营许可和车辆营运证信息。",
        "licence_number:经营许可证号:s:o;uscc:统一社会信用代码:s:o;name:经营者名称:s:o;"
        "scope:经营范围:s:o;valid_until:有效期至:d:o",
    ),
    Entry(
        "2090020001",
        "GAJ",
        "在逃人员信息",
        "公安机关网上追逃的在逃人员信息。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;case_type:案件类别:s:s",
        ShareType.NONE,
        "属于公安机关侦查工作信息，依据《中华人民共和国人民警察法》第二十二条和"
        "《公安机关办理刑事案件程序规定》不予共享。",
    ),
    Entry(
        "2090020002",
        "ZRZYJ",
        "涉密基础测绘成果",
        "1:500至1:2000大比例尺涉密地形图和高精度控制点成果。",
        "sheet_number:图幅号:s:s;scale:比例尺:s:s;produced_on:测制日期:d:s",
        ShareType.NONE,
        "属于国家秘密，依据《中华人民共和国测绘法》第三十四条和《测绘成果管理条例》"
        "第十七条，按涉密测绘成果提供使用审批程序办理，不通过共享平台提供。",
        share_method=ShareMethod.EXCHANGE,
        format="image",
    ),
    Entry(
        "2090020003",
        "XFJ",
        "信访举报人信息",
        "信访事项中检举、揭发、控告人员的身份和联系方式。",
        "id_number:公民身份号码:s:p;name:姓名:s:p;phone:联系电话:s:p",
        ShareType.NONE,
        "依据《信访工作条例》第四十五条，不得将检举、揭发材料及有关情况透露或者转送给"
        "被检举、揭发的人员或者单位，不予共享。",
    ),
    # --------------------------------------------------------- departmental (部门信息资源)
    Entry(
        "3010010001",
        "ZRZYJ",
        "建设工程规划许可信息",
        "建设工程规划许可证核发信息。",
        "licence_number:许可证编号:s:o;project:项目名称:s:o;builder:建设单位:s:o;location:建设位置:s:o;"
        "scale:建设规模（平方米）:n:o;issued_on:发证日期:d:o",
    ),
    Entry(
        "3010020001",
        "ZJJ",
        "建筑工程施工许可信息",
        "建筑工程施工许可证核发信息。",
        "licence_number:施工许可证编号:s:o;project:工程名称:s:o;builder:建设单位:s:o;"
        "contractor:施工单位:s:o;contract_price:合同价格（万元）:n:o;issued_on:发证日期:d:o",
    ),
    Entry(
        "3010030001",
        "SCJ",
        "食品经营许可信息",
        "食品经营许可证核发、变更、延续和注销信息。",
        "licence_number:许可证编号:s:o;operator:经营者名称:s:o;uscc:统一社会信用代码:s:o;"
        "address:经营场所:s:o;items:经营项目:s:o;valid_until:有效期至:d:o;status:状态:s:o",
        open_type="open",
        v1_drop=("status",),
        change_note="增加许可证状态",
    ),
    Entry(
        "3010040001",
        "SWJ",
        "取水许可信息",
        "取水许可证核发信息和年度许可水量。",
        "licence_number:取水许可证编号:s:o;holder:取水权人:s:o;source:水源类型:s:o;"
        "quantity:年许可取水量（万立方米）:n:o;valid_until:有效期至:d:o",
        cycle="monthly",
    ),
    Entry(
        "3010050001",
        "LYJ",
        "林木采伐许可信息",
        "林木采伐许可证核发信息。",
        "licence_number:采伐许可证号:s:o;holder:申请人:s:o;location:采伐地点:s:o;"
        "volume:采伐蓄积（立方米）:n:o;issued_on:发证日期:d:o",
        cycle="monthly",
    ),
    Entry(
        "3010060001",
        "XFZD",
        "公众聚集场所投入使用营业前消防安全检查信息",
        "公众聚集场所消防安全检查许可结果。",
        "decision_number:许可文书号:s:o;venue:场所名称:s:o;address:场所地址:s:o;"
        "area:使用面积（平方米）:n:o;decided_on:决定日期:d:o",
    ),
    Entry(
        "3010070001",
        "WLJ",
        "文化经营许可信息",
        "娱乐场所、营业性演出、网吧等文化经营许可证信息。",
        "licence_number:许可证编号:s:o;operator:经营单位:s:o;kind:经营类别:s:o;valid_until:有效期至:d:o",
    ),
    Entry(
        "3010080001",
        "NYJ",
        "农药经营许可信息",
        "农药经营许可证核发信息。",
        "licence_number:许可证编号:s:o;operator:经营者:s:o;address:经营场所:s:o;"
        "restricted:含限制使用农药:b:o;valid_until:有效期至:d:o",
        cycle="monthly",
    ),
    Entry(
        "3010090001",
        "ZSJ",
        "政务服务办件信息",
        "全市政务服务事项办件的受理、办结和评价信息（不含申请材料）。",
        "case_number:办件编号:s:i;item_code:事项实施编码:s:o;item_name:事项名称:s:o;"
        "department:实施机关:s:o;accepted_at:受理时间:t:i;closed_at:办结时间:t:i;rating:评价等级:i:i",
        ShareType.CONDITIONAL,
        "限政务服务管理和电子监察使用。",
        cycle="realtime",
        share_method=ShareMethod.BOTH,
    ),
    Entry(
        "3010090002",
        "ZSJ",
        "12345热线工单信息",
        "12345政务服务便民热线工单的诉求分类、承办单位和办理结果。",
        "ticket_number:工单编号:s:i;category:诉求分类:s:i;department:承办单位:s:i;"
        "received_at:受理时间:t:i;result:办理结果:s:i;satisfied:是否满意:b:i",
        ShareType.CONDITIONAL,
        "不含来电人身份信息；限承办单位和督办部门使用。",
        cycle="realtime",
    ),
    Entry(
        "3010100001",
        "SFJ",
        "法律援助案件信息",
        "法律援助申请、指派和结案信息。",
        "case_number:案件编号:s:s;applicant_name:受援人:s:p;kind:案件类别:s:s;"
        "assigned_to:承办机构:s:i;closed_on:结案日期:d:i",
        ShareType.CONDITIONAL,
        PERSONAL_BASIS,
        cycle="monthly",
    ),
    Entry(
        "3010110001",
        "CZJ",
        "政府采购合同信息",
        "政府采购项目合同的采购人、供应商、金额和签订日期。",
        "contract_number:合同编号:s:o;buyer:采购人:s:o;supplier:供应商:s:o;"
        "amount:合同金额（万元）:n:o;signed_on:签订日期:d:o",
        open_type="open",
    ),
    Entry(
        "3010120001",
        "CGJ",
        "城市管理执法案件信息",
        "城市管理综合执法立案、处罚和结案信息。",
        "case_number:案件编号:s:i;party_name:当事人:s:s;violation:违法行为:s:i;"
        "decision:处理决定:s:i;closed_on:结案日期:d:i",
    ),
    Entry(
        "3010130001",
        "KJJ",
        "高新技术企业认定信息",
        "高新技术企业认定和复审结果。",
        "certificate_number:证书编号:s:o;uscc:统一社会信用代码:s:o;name:企业名称:s:o;"
        "recognised_on:认定日期:d:o;valid_until:有效期至:d:o",
        cycle="yearly",
        open_type="open",
    ),
    Entry(
        "3010140001",
        "FGW",
        "重点建设项目信息",
        "市级重点建设项目的立项、投资和建设进度。",
        "project_code:项目代码:s:o;name:项目名称:s:o;owner:项目单位:s:o;"
        "investment:总投资（亿元）:n:o;progress:形象进度:s:o",
        cycle="monthly",
        share_method=ShareMethod.EXCHANGE,
        format="spreadsheet",
    ),
    Entry(
        "3010150001",
        "SWU",
        "对外贸易经营者备案信息",
        "对外贸易经营者备案登记信息。",
        "record_number:备案登记表编号:s:o;uscc:统一社会信用代码:s:o;name:经营者名称:s:o;"
        "recorded_on:备案日期:d:o",
    ),
]

# department systems (besides each department's platform system): code, department, name
SYSTEMS = [
    ("gaj-hukou", "GAJ", "人口管理信息系统"),
    ("rsj-shebao", "RSJ", "社会保险业务经办系统"),
    ("ybj-yibao", "YBJ", "医疗保障信息平台"),
    ("mzj-hunyin", "MZJ", "婚姻登记管理信息系统"),
    ("mzj-jiuzhu", "MZJ", "社会救助信息系统"),
    ("wjw-chusheng", "WJW", "出生医学证明管理系统"),
    ("scj-dengji", "SCJ", "市场主体登记注册系统"),
    ("tsj-zhengguan", "TSJ", "税收征管系统"),
    ("gjj-yewu", "GJJ", "住房公积金综合业务系统"),
    ("zjj-baozhang", "ZJJ", "住房保障管理系统"),
    ("jyj-xueji", "JYJ", "学籍管理系统"),
    ("bdc-dengji", "BDC", "不动产登记业务系统"),
    ("zsj-dianzhao", "ZSJ", "电子证照库管理系统"),
]

# grants of the once-only materials: the handling departments' platform systems
ONCE_ONLY_GRANTS = [
    ("WJW", PERSON),
    ("WJW", BIRTH),
    ("GAJ", PERSON),
    ("GAJ", HOUSEHOLD_REGISTER),
    ("GAJ", BIRTH),
    ("YBJ", PERSON),
    ("YBJ", HOUSEHOLD_REGISTER),
    ("YBJ", BIRTH),
    ("RSJ", PERSON),
    ("RSJ", HOUSEHOLD_REGISTER),
    ("SCJ", LEGAL_PERSON),
    ("SCJ", LICENCES),
    ("MZJ", PERSON),
    ("MZJ", HOUSEHOLD_REGISTER),
    ("ZSJ", LICENCES),
]

# approved requests of department systems: system code, resource, items (None: all), purpose
SYSTEM_GRANTS: list[tuple[str, str, tuple[str, ...] | None, str]] = [
    (
        "rsj-shebao",
        PERSON,
        ("id_number", "name", "gender", "birth_date", "death_date"),
        "社会保险参保登记和待遇资格认证（死亡人员停发待遇）",
    ),
    ("ybj-yibao", BIRTH, None, "新生儿参加城乡居民基本医疗保险登记"),
    ("ybj-yibao", PERSON, ("id_number", "name", "gender", "birth_date"), "医保参保登记身份核验"),
    (
        "mzj-hunyin",
        PERSON,
        ("id_number", "name", "gender", "marital_status", "birth_date"),
        "婚姻登记当事人身份和婚姻状况核验",
    ),
    ("mzj-jiuzhu", HOUSEHOLD_MEMBERS, None, "最低生活保障家庭成员核查"),
    (
        "mzj-jiuzhu",
        "2030010001",
        ("owner_name", "owner_id_number", "location", "area"),
        "社会救助家庭经济状况核对（不动产）",
    ),
    ("tsj-zhengguan", LEGAL_PERSON, None, "纳税人登记信息确认"),
    (
        "gjj-yewu",
        "2030010001",
        ("certificate_number", "owner_name", "owner_id_number", "location", "area", "mortgaged"),
        "住房公积金贷款购房核查",
    ),
    ("gjj-yewu", "2020010001", None, "公积金提取和贷款婚姻状况核验"),
    (
        "zjj-baozhang",
        "2030010001",
        ("owner_name", "owner_id_number", "location", "area"),
        "保障性住房申请家庭住房状况核查",
    ),
    ("zjj-baozhang", "2020010002", None, "保障性住房优先配租对象核查"),
    ("jyj-xueji", HOUSEHOLD_MEMBERS, None, "义务教育入学户籍核验"),
    ("bdc-dengji", LEGAL_PERSON, None, "不动产登记申请人主体资格核验"),
    ("bdc-dengji", PERSON, ("id_number", "name", "marital_status"), "不动产登记申请人身份核验"),
    ("scj-dengji", ADDRESS, None, "市场主体住所（经营场所）标准化登记"),
    ("zsj-dianzhao", LICENCES, None, "电子证照库运行维护和用证核验"),
]

# requests still waiting (one overdue) and refused: system, resource, purpose, days ago, reasons
PENDING_REQUESTS = [
    ("tsj-zhengguan", "2030010001", "个人出售住房涉税信息核验", 2, ""),
    ("jyj-xueji", "2010020001", "学生医保参保情况统计", 4, ""),
    ("zjj-baozhang", "2030010002", "保障性住房申请人公积金缴存核查", 20, ""),  # overdue
]
REFUSED_REQUESTS = [
    (
        "scj-dengji",
        PERSON,
        "市场主体登记联络员信息批量核对",
        15,
        "申请用途为批量核对，不符合按需逐条查询的最小必要原则；请改为办件时逐条核验。",
    ),
    (
        "gjj-yewu",
        "2020010002",
        "公积金缴存职工困难情况摸底",
        9,
        "最低生活保障对象信息仅限用于救助帮扶和费用减免，申请用途不在共享条件范围内。",
    ),
]

PURPOSES = {
    "basedata.person": ["办件受理身份核验", "社会保险待遇资格认证", "婚姻登记当事人核验"],
    "basedata.household": ["入学户籍核验", "最低生活保障家庭成员核查"],
    "basedata.birth": ["新生儿医保参保登记", "出生医学证明核验"],
    "basedata.legal_person": ["纳税人登记信息确认", "不动产登记主体资格核验"],
    "licences.by_holder": ["办件免交证照核验", "电子证照用证核验"],
    "basedata.address": ["市场主体住所标准化登记"],
}

# accesses to the demo citizen's data (shown on their "who used my data" page)
CITIZEN_CALLS = [
    ("GAJ", PERSON, "出生登记申报人身份核验", 1),
    ("RSJ", PERSON, "社会保障卡申领身份核验", 3),
    ("YBJ", BIRTH, "新生儿参加城乡居民医保登记", 4),
    ("WJW", BIRTH, "出生医学证明签发核验", 6),
    ("MZJ", PERSON, "婚姻状况核验", 9),
    ("GAJ", HOUSEHOLD_REGISTER, "户口迁移审查", 12),
    ("RSJ", HOUSEHOLD_REGISTER, "就业登记户籍核验", 15),
    ("ZSJ", LICENCES, "电子证照用证核验", 18),
    ("YBJ", PERSON, "医保参保身份核验", 22),
    ("MZJ", HOUSEHOLD_REGISTER, "最低生活保障家庭成员核查", 27),
]


# ----------------------------------------------------------------------------- helpers


def _items(text: str) -> list[tuple[str, str, str, str]]:
    found = []
    for part in text.split(";"):
        code, name, kind, level = part.split(":")
        found.append((code, name, TYPES[kind], LEVELS[level]))
    return found


def _classification(code: str) -> str:
    parts = [code[0], code[1:3], code[3:6]]
    if len(code) == 13:
        parts.append(code[6:9])
    return "-".join(parts)


def _class(code: str) -> str:
    return {
        "1": ResourceClass.BASE,
        "2": ResourceClass.THEMATIC,
        "3": ResourceClass.DEPARTMENTAL,
    }[code[0]]


def _steward() -> User:
    user = (
        User.objects.filter(username="sysadmin").first()
        or User.objects.filter(kind="staff", is_active=True).order_by("pk").first()
    )
    if user is None:
        raise RuntimeError("the demo city's users must be loaded before its data sharing")
    return user


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


class SharingLoader:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.steward = _steward()
        # the city's and the districts' departments (not the discipline commission)
        self.departments = {
            department.code: department
            for department in Department.objects.filter(is_active=True).exclude(code="JW")
        }
        self.resources: dict[str, Resource] = {}
        self.systems: dict[str, ConsumerSystem] = {}
        self.now = timezone.now()

    # ---------------------------------------------------------------- catalogue

    def catalogue(self) -> int:
        created = 0
        existing = {resource.code: resource for resource in Resource.objects.all()}
        for index, entry in enumerate(ENTRIES):
            provider = self.departments.get(entry.provider)
            if provider is None:
                continue
            if entry.code in existing:
                self.resources[entry.code] = existing[entry.code]
                continue
            self.resources[entry.code] = self._resource(entry, provider, index)
            created += 1
        return created

    def _resource(self, entry: Entry, provider: Department, index: int) -> Resource:
        resource = Resource.objects.create(
            code=entry.code,
            resource_class=_class(entry.code),
            provider=provider,
            service_code=entry.service_code,
        )
        published_on = (self.now - dt.timedelta(days=400 - index * 5)).date()
        number = 1
        if entry.v1_drop:
            self._version(entry, resource, 1, VersionStatus.SUPERSEDED, published_on, entry.v1_drop)
            number = 2
            published_on = published_on + dt.timedelta(days=180)
        current = self._version(entry, resource, number, VersionStatus.PUBLISHED, published_on, ())
        resource.current = current
        resource.save(update_fields=["current", "updated_at"])
        audit_record(
            action="sharing.resource_create",
            actor=self.steward,
            target=resource,
            detail={"code": entry.code, "provider": provider.code, "version": number, "demo": True},
        )
        try:
            from tongban.apps.sharing.catalogue import resource_index

            resource_index(resource=resource)
        except ImportError:  # the catalogue area is not there: nothing to index
            pass
        return resource

    def _version(
        self,
        entry: Entry,
        resource: Resource,
        number: int,
        status: str,
        published_on: dt.date,
        drop: tuple[str, ...],
    ) -> ResourceVersion:
        moment = timezone.make_aware(dt.datetime.combine(published_on, dt.time(10, 0)))
        version = ResourceVersion.objects.create(
            resource=resource,
            number=number,
            status=status,
            classification=_classification(entry.code),
            name=entry.name,
            summary=entry.summary,
            format=entry.format,
            share_type=entry.share_type,
            share_conditions=entry.conditions,
            share_method=entry.share_method,
            open_type=entry.open_type,
            update_cycle=entry.cycle,
            published_on=published_on,
            related_codes=list(entry.related),
            change_note=entry.change_note if number > 1 else "",
            created_by=self.steward,
            submitted_at=moment - dt.timedelta(days=3),
            reviewed_by=self.steward,
            reviewed_at=moment,
            review_comment="同意发布",
        )
        InfoItem.objects.bulk_create(
            InfoItem(
                version=version,
                order=order,
                code=code,
                name=name,
                data_type=kind,
                sensitivity=level,
            )
            for order, (code, name, kind, level) in enumerate(
                [item for item in _items(entry.items) if item[0] not in drop], start=1
            )
        )
        return version

    # ---------------------------------------------------------------- systems

    def systems_load(self) -> int:
        from tongban.platform.crypto import sm2

        created = 0
        existing = {system.code: system for system in ConsumerSystem.objects.all()}
        wanted: list[tuple[str, Department, str, bool]] = [
            (f"{code.lower()}-platform", department, f"{department.name}网上审批系统", True)
            for code, department in self.departments.items()
        ]
        wanted += [
            (code, self.departments[department_code], name, False)
            for code, department_code, name in SYSTEMS
            if department_code in self.departments
        ]
        for code, department, name, is_platform in wanted:
            if code in existing:
                self.systems[code] = existing[code]
                continue
            if (
                is_platform
                and ConsumerSystem.objects.filter(
                    department=department, is_platform=True, is_active=True
                ).exists()
            ):
                found = ConsumerSystem.objects.filter(
                    department=department, is_platform=True, is_active=True
                ).first()
                assert found is not None
                self.systems[code] = found
                continue
            secret = "tbs_" + "".join(
                self.rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(40)
            )
            system = ConsumerSystem(
                code=code,
                name=name,
                department=department,
                client_id=f"tbc_demo_{code.replace('-', '_')}"[:40],
                secret_hash=make_password(secret),
                secret_prefix=secret[:10],
                secret_set_at=self.now - dt.timedelta(days=90),
                public_key_pem=""
                if is_platform
                else sm2.public_key_pem(sm2.generate_private_key_pem()).decode("ascii"),
                is_platform=is_platform,
                contact=""
                if is_platform
                else f"{department.short_name or department.name}信息中心",
            )
            system.save()
            audit_record(
                action="sharing.system.create",
                actor=self.steward,
                target=system,
                detail={"department": department.pk, "is_platform": is_platform, "demo": True},
            )
            self.systems[code] = system
            created += 1
        return created

    # ---------------------------------------------------------------- requests and grants

    def _items_of(self, resource: Resource) -> list[InfoItem]:
        assert resource.current_id is not None
        return list(InfoItem.objects.filter(version_id=resource.current_id).order_by("order"))

    def _number(self, moment: dt.datetime) -> str:
        prefix = f"GX{timezone.localtime(moment):%Y%m%d}"
        last = (
            SharingRequest.objects.filter(number__startswith=prefix)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        sequence = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
        return f"{prefix}{sequence:04d}"

    def _request(
        self,
        system: ConsumerSystem,
        resource: Resource,
        items: list[str],
        purpose: str,
        *,
        days_ago: int,
        status: str,
        reasons: str = "",
    ) -> SharingRequest | None:
        if SharingRequest.objects.filter(
            consumer_system=system, resource=resource, purpose=purpose
        ).exists():
            return None
        requested_at = self.now - dt.timedelta(days=days_ago, hours=2)
        assert resource.current is not None  # the demo requests published resources only
        decided = status in (RequestStatus.APPROVED, RequestStatus.REFUSED)
        request = SharingRequest.objects.create(
            number=self._number(requested_at),
            resource=resource,
            resource_version=resource.current,
            consumer_department=system.department,
            consumer_system=system,
            items=items,
            purpose=purpose,
            legal_basis="《政务信息资源共享管理暂行办法》（国发〔2016〕51号）第十条；"
            "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》",
            period_start=timezone.localdate(requested_at),
            period_end=timezone.localdate(requested_at) + dt.timedelta(days=3 * 365),
            status=status,
            requested_by=self.steward,
            due_at=requested_at + dt.timedelta(days=7),
            decided_by=self.steward if decided else None,
            decided_at=requested_at + dt.timedelta(days=2) if decided else None,
            decision_reasons=reasons,
        )
        # the row's own time (auto_now_add) is today: set the demo's history
        SharingRequest.objects.filter(pk=request.pk).update(requested_at=requested_at)
        audit_record(
            action="sharing.request.create",
            actor=self.steward,
            target=request,
            detail={"resource": resource.code, "status": status, "demo": True},
        )
        return request

    def _grant(
        self,
        system: ConsumerSystem,
        resource: Resource,
        items: tuple[str, ...] | None,
        purpose: str,
        masked_levels: tuple[str, ...],
        *,
        days_ago: int,
    ) -> bool:
        if Grant.objects.filter(
            consumer_system=system, resource=resource, revoked_at__isnull=True
        ).exists():
            return False
        catalogue = self._items_of(resource)
        codes = [item.code for item in catalogue if items is None or item.code in items]
        masked = [
            item.code
            for item in catalogue
            if item.code in codes
            and (item.sensitivity in masked_levels or "id_number" in item.code)
        ]
        request = self._request(
            system, resource, codes, purpose, days_ago=days_ago, status=RequestStatus.APPROVED
        )
        valid_from = self.now - dt.timedelta(days=days_ago - 2 if days_ago > 2 else 0, hours=1)
        grant = Grant.objects.create(
            request=request,
            resource=resource,
            consumer_system=system,
            consumer_department=system.department,
            items=codes,
            masked_items=masked,
            purpose=purpose,
            rate_limit_per_minute=600,
            valid_from=valid_from,
            expires_at=valid_from + dt.timedelta(days=3 * 365),
            created_by=self.steward,
        )
        audit_record(
            action="sharing.grant.create",
            actor=self.steward,
            target=grant,
            detail={"resource": resource.code, "system": system.code, "demo": True},
        )
        return True

    def grants(self) -> tuple[int, int]:
        granted = 0
        for department_code, code in ONCE_ONLY_GRANTS:
            system = self.systems.get(f"{department_code.lower()}-platform")
            resource = self.resources.get(code)
            if system is None or resource is None:
                continue
            # the clerk reads names and dates; identity numbers arrive masked
            granted += self._grant(
                system,
                resource,
                None,
                "政务服务事项受理审查（材料免提交）",
                (),
                days_ago=60,
            )
        # district social security bureaus take 社会保障卡申领 of the bundle too
        for department_code in sorted(self.departments):
            if not department_code.endswith("-RSJ"):
                continue
            for code in (PERSON, HOUSEHOLD_REGISTER):
                system = self.systems.get(f"{department_code.lower()}-platform")
                resource = self.resources.get(code)
                if system is not None and resource is not None:
                    granted += self._grant(
                        system,
                        resource,
                        None,
                        "政务服务事项受理审查（材料免提交）",
                        (),
                        days_ago=60,
                    )
        for index, (system_code, code, items, purpose) in enumerate(SYSTEM_GRANTS):
            system = self.systems.get(system_code)
            resource = self.resources.get(code)
            if system is None or resource is None:
                continue
            granted += self._grant(
                system, resource, items, purpose, ("personal",), days_ago=45 + index * 3
            )
        requests = 0
        for system_code, code, purpose, days_ago, _reasons in PENDING_REQUESTS:
            system, resource = self.systems.get(system_code), self.resources.get(code)
            if system is None or resource is None:
                continue
            made = self._request(
                system,
                resource,
                [item.code for item in self._items_of(resource)][:4],
                purpose,
                days_ago=days_ago,
                status=RequestStatus.SUBMITTED,
            )
            requests += made is not None
        for system_code, code, purpose, days_ago, reasons in REFUSED_REQUESTS:
            system, resource = self.systems.get(system_code), self.resources.get(code)
            if system is None or resource is None:
                continue
            made = self._request(
                system,
                resource,
                [item.code for item in self._items_of(resource)][:4],
                purpose,
                days_ago=days_ago,
                status=RequestStatus.REFUSED,
                reasons=reasons,
            )
            requests += made is not None
        return granted, requests

    # ---------------------------------------------------------------- the call history

    def history(self) -> int:
        if GatewayCall.objects.filter(request_id__startswith=REQUEST_PREFIX).exists():
            return 0
        from tongban.apps.sharing import gateway_log

        people = [str(person.id_number) for person in NaturalPerson.objects.order_by("pk")[:60]]
        usccs = list(LegalPerson.objects.order_by("pk").values_list("uscc", flat=True)[:30])
        citizen = User.objects.filter(username="citizen").select_related("person").first()
        citizen_id = str(citizen.person.id_number) if citizen is not None and citizen.person else ""
        if not people:
            return 0
        grants = list(
            Grant.objects.filter(revoked_at__isnull=True, resource__service_code__gt="")
            .select_related("resource", "consumer_system")
            .order_by("pk")
        )
        if not grants:
            return 0
        planned: list[tuple[GatewayCall, list[str]]] = []
        start = timezone.localtime(self.now).replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(HISTORY_DAYS, -1, -1):
            base = start - dt.timedelta(days=day)
            weekend = base.weekday() >= 5
            count = CALLS_PER_DAY // (5 if weekend else 1)
            if day == 0:
                elapsed = (timezone.localtime(self.now) - base).total_seconds() / 86400
                count = int(count * min(1.0, max(0.0, elapsed)))
            for _ in range(count):
                moment = base + dt.timedelta(
                    hours=self.rng.choice(
                        [8, 9, 9, 10, 10, 10, 11, 11, 14, 14, 15, 15, 16, 16, 17]
                    ),
                    minutes=self.rng.randrange(60),
                    seconds=self.rng.randrange(60),
                    microseconds=self.rng.randrange(1_000_000),
                )
                if moment >= self.now:
                    continue
                grant = self.rng.choice(grants)
                planned.append(self._call(grant, moment, people, usccs))
        for department_code, code, purpose, days_ago in CITIZEN_CALLS if citizen_id else []:
            system = self.systems.get(f"{department_code.lower()}-platform")
            chosen = next(
                (
                    found
                    for found in grants
                    if found.consumer_system_id == (system.pk if system else None)
                    and found.resource.code == code
                ),
                None,
            )
            if chosen is None:
                continue
            moment = timezone.localtime(self.now - dt.timedelta(days=days_ago)).replace(
                hour=10, minute=days_ago, second=7
            )
            call, numbers = self._call(chosen, moment, [citizen_id], usccs, ok=True)
            call.purpose = purpose
            call.digest = gateway_log.call_digest(call)
            planned.append((call, numbers))
        planned.sort(key=lambda pair: pair[0].at)
        for offset in range(0, len(planned), 1000):
            chunk = planned[offset : offset + 1000]
            GatewayCall.objects.bulk_create([call for call, _ in chunk])
        # the ids, in the order written, for the subjects
        ids = list(
            GatewayCall.objects.filter(request_id__startswith=REQUEST_PREFIX)
            .order_by("pk")
            .values_list("pk", "request_id")
        )
        by_request = {request_id: pk for pk, request_id in ids}
        rows = [
            GatewayCallSubject(
                call_id=by_request[call.request_id],
                subject_hash=lookup_hmac(number, purpose=SUBJECT_PURPOSE),
            )
            for call, numbers in planned
            for number in sorted(set(numbers))
        ]
        GatewayCallSubject.objects.bulk_create(rows, batch_size=1000)
        audit_record(
            action=MARKER,
            actor=self.steward,
            object_type="demo.sharing",
            object_label="示范市共享调用历史",
            detail={"calls": len(planned), "days": HISTORY_DAYS},
        )
        return len(planned)

    def _call(
        self,
        grant: Grant,
        moment: dt.datetime,
        people: list[str],
        usccs: list[str],
        ok: bool = False,
    ) -> tuple[GatewayCall, list[str]]:
        from tongban.apps.sharing import gateway_log

        service = grant.resource.service_code
        subject = ""
        if service == "basedata.legal_person":
            subject = self.rng.choice(usccs) if usccs else ""
            query = {"uscc": subject}
        elif service == "basedata.household":
            subject = self.rng.choice(people)
            query = {"household_number": f"9901{self.rng.randrange(10**8):08d}"}
        elif service == "basedata.address":
            query = {
                "q": self.rng.choice(["湖滨街道", "西山街道", "江南街道", "市民大道", "创业路"])
            }
        else:
            subject = self.rng.choice(people)
            name = {
                "basedata.birth": "parent_id_number",
                "licences.by_holder": "holder_id_number",
            }.get(service, "id_number")
            query = {name: subject}
        roll = 1.0 if ok else self.rng.random()
        if roll < 0.015:
            result, records = CallResult.RATE_LIMITED, 0
        elif roll < 0.04:
            result, records = CallResult.INVALID, 0
        elif roll < 0.12:
            result, records = CallResult.NOT_FOUND, 0
        elif roll < 0.125:
            result, records = CallResult.ERROR, 0
        else:
            result = CallResult.OK
            records = (
                self.rng.randint(1, 5)
                if service in ("basedata.household", "basedata.address", "licences.by_holder")
                else 1
            )
        served = result in (CallResult.OK, CallResult.NOT_FOUND)
        purposes = PURPOSES.get(service, ["依法履职核验"])
        call = GatewayCall(
            at=moment,
            consumer_system_id=grant.consumer_system_id,
            consumer_department_id=grant.consumer_department_id,
            resource_id=grant.resource_id,
            provider_department_id=grant.resource.provider_id,
            grant_id=grant.pk,
            purpose=(
                f"办件受理审查：{self.rng.choice(purposes)}"
                if grant.consumer_system.is_platform
                else grant.purpose[:300]
            ),
            query=gateway_log.query_text(query),
            records=records,
            result=result,
            latency_ms=round(self.rng.lognormvariate(2.4, 0.5) + (3 if served else 0), 3),
            case_number="",
            request_id=f"{REQUEST_PREFIX}{self.rng.getrandbits(64):016x}",
        )
        call.digest = gateway_log.call_digest(call)
        return call, [subject] if subject and result == CallResult.OK else []

    def statistics(self) -> int:
        try:
            from tongban.apps.sharing.stats import daily_stats_rollup
        except ImportError:
            return 0
        today = timezone.localdate(self.now)
        return sum(
            daily_stats_rollup(day=today - dt.timedelta(days=day))
            for day in range(HISTORY_DAYS, -1, -1)
        )

    def seal(self) -> int:
        try:
            from tongban.apps.sharing.gateway_log import seal
        except ImportError:
            return 0
        return seal()


def load(stdout: TextIO | None = None) -> dict[str, int]:
    """Load (or complete) the demo's data sharing; returns what was created and counted."""
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data
    with transaction.atomic():
        loader = SharingLoader(rng)
        resources = loader.catalogue()
        systems = loader.systems_load()
        grants, requests = loader.grants()
        calls = loader.history()
    # the periodic jobs' own work, each in its own transactions
    if calls:
        loader.seal()
        loader.statistics()
    counts = {
        "sharing_resources": Resource.objects.filter(current__isnull=False).count(),
        "sharing_systems": ConsumerSystem.objects.count(),
        "sharing_grants": Grant.objects.filter(revoked_at__isnull=True).count(),
        "sharing_requests": SharingRequest.objects.count(),
        "sharing_calls": GatewayCall.objects.count(),
    }
    summary = (
        "数据共享：资源目录 {sharing_resources} 条，接入系统 {sharing_systems} 个，"
        "有效授权 {sharing_grants} 个，共享申请 {sharing_requests} 件，"
        "调用日志 {sharing_calls} 条"
    ).format(**counts)
    _say(
        stdout,
        f"{summary}（本次新建资源 {resources}、系统 {systems}、授权 {grants}、"
        f"申请 {requests}、调用 {calls}）",
    )
    return counts
