"""What each table accepts: its columns (canonical name, Chinese header, kind, aliases), natural
key, the id the importer assigns and the names it resolves; and how a header text is recognised."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass

from governance.labels import TABLE_LABELS



def _env_int(name: str, default: int) -> int:
    """A limit from the environment (GOVERNANCE_<NAME>), else its default."""
    value = os.environ.get(f"GOVERNANCE_{name}", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


# Limits of an imported file, checked BEFORE it is read (see importer.limits); each can be set by
# the environment variable GOVERNANCE_<name>, e.g. GOVERNANCE_MAX_CSV_ROWS=3000000.
MAX_FILE_BYTES = _env_int("MAX_FILE_BYTES", 500 * 1024 * 1024)  # command line; the page: server.maxUploadSize
MAX_CSV_ROWS = _env_int("MAX_CSV_ROWS", 2_000_000)      # lines of a CSV (read in chunks)
MAX_SHEET_ROWS = _env_int("MAX_SHEET_ROWS", 100_000)    # rows of one worksheet (a sheet is read whole)
MAX_COLUMNS = _env_int("MAX_COLUMNS", 200)              # columns of a CSV or a worksheet
MAX_CELL_CHARS = _env_int("MAX_CELL_CHARS", 32_767)     # characters of one cell (Excel's own limit)
MAX_PART_BYTES = _env_int("MAX_PART_BYTES", 100 * 1024 * 1024)   # uncompressed size of one part of a .xlsx
MAX_UNZIPPED_BYTES = _env_int("MAX_UNZIPPED_BYTES", 300 * 1024 * 1024)  # all parts of a .xlsx together
MAX_PROBLEMS_KEPT = 10_000  # all problems are counted; this many are listed
DEMO_REMOVAL = "demo_data"  # import_batches.table_name of the "remove the demonstration data" action
SATISFACTION = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


@dataclass(frozen=True)
class Col:
    name: str  # canonical English name
    label: str  # Chinese header of the template
    kind: str  # text, int, float, date, month, datetime, bool, ctype, satisfaction
    required: bool
    help: str
    example: object
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    table: str
    cols: tuple[Col, ...]
    key: tuple[str, ...]  # natural key: duplicates within the file or against stored rows
    id_col: str | None  # integer id the importer assigns; None when the key is the primary key
    refs: tuple[str, ...]  # which of community / compound / building / org the rows name

    @property
    def label(self) -> str:
        return TABLE_LABELS[self.table]

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)


_STREET = Col("street", "街道", "text", True, "所在街道/镇的名称，与“社区”表中的写法一致", "江堤街道", ("街道/镇", "镇", "乡镇街道"))
_COMMUNITY = Col("community", "社区", "text", True, "社区名称，须已在“社区”表中（同一街道下）", "江欣苑社区", ("社区名称", "村/社区"))


def _compound(required: bool, help: str = "小区名称，须已在“小区”表中（同一社区下）") -> Col:
    return Col("compound", "小区", "text", required, help, "江欣苑一期", ("小区名称",))


def _building(required: bool, help: str = "楼栋或单元名称，须已在“楼栋”表中（同一小区下）") -> Col:
    return Col("building", "楼栋", "text", required, help, "1单元", ("楼栋（单元）", "楼栋/单元", "单元"))


def _on(name: str, label: str, required: bool, help: str, example, aliases=()) -> Col:
    return Col(name, label, "date", required, help, example, aliases)


SPECS: dict[str, Spec] = {s.table: s for s in [
    Spec("communities", (
        Col("province", "省", "text", True, "省、自治区、直辖市", "湖北省", ("省份",)),
        Col("city", "市", "text", True, "地级市（直辖市填同名）", "武汉市", ("城市", "地市")),
        Col("district", "区县", "text", True, "区、县或县级市", "汉阳区", ("区/县级市", "区", "县", "区/县")),
        _STREET,
        Col("community", "社区", "text", True, "社区（村）名称，同一街道内不能重名", "江欣苑社区", ("社区名称", "村/社区")),
        Col("type", "类型", "ctype", True, "城市社区或农村社区：填 城市/农村（或 urban/rural）", "城市", ("社区类型",)),
        Col("households", "户数", "int", False, "常住户数，非负整数", 2816, ("总户数",)),
        Col("residents", "居民人数", "int", False, "常住居民人数，非负整数", 7600, ("人口", "居民数", "常住人口")),
        Col("area_km2", "面积（平方公里）", "float", False, "辖区面积，单位平方公里", 0.45, ("面积", "面积(km2)")),
    ), ("street", "community"), "community_id", ()),
    Spec("compounds", (
        _STREET, _COMMUNITY,
        _compound(True, "小区名称，同一社区内不能重名"),
        Col("households", "户数", "int", False, "小区户数，非负整数", 352, ("总户数",)),
    ), ("street", "community", "compound"), "compound_id", ("community",)),
    Spec("buildings", (
        _STREET, _COMMUNITY, _compound(True),
        _building(True, "楼栋或单元名称，同一小区内不能重名"),
        Col("households", "户数", "int", False, "本楼栋（单元）户数，非负整数", 32, ("总户数",)),
    ), ("street", "community", "compound", "building"), "building_id", ("community", "compound")),
    Spec("branches", (
        _STREET, _COMMUNITY,
        _compound(False, "党支部所在小区（可空：不按小区设的支部）；填写时须已在“小区”表中"),
        Col("branch", "党支部名称", "text", True, "小区党支部名称", "江欣苑一期党支部", ("党支部", "支部名称")),
        Col("members", "党员人数", "int", True, "正式党员人数，非负整数", 12, ("党员数",)),
        Col("has_committee", "是否设支委会", "bool", False, "是/否（可空）", "是", ("支委会",)),
        _on("established_on", "成立日期", True, "如 2020-03-01、2020/3/1 或 2020年3月1日", "2020-03-01", ("成立时间",)),
        _on("dissolved_on", "撤销日期", False, "仍存在则留空", None, ("撤销时间",)),
    ), ("street", "community", "branch", "established_on"), "branch_id", ("community", "compound")),
    Spec("building_groups", (
        _STREET, _COMMUNITY, _compound(True), _building(True),
        Col("leader", "党小组长", "text", False, "楼栋党小组长姓名（可空）", "张三", ("组长", "小组长")),
        _on("established_on", "成立日期", True, "如 2021-01-01", "2021-01-01", ("成立时间",)),
        _on("dissolved_on", "撤销日期", False, "仍存在则留空", None, ("撤销时间",)),
    ), ("street", "community", "compound", "building", "established_on"), "group_id",
        ("community", "compound", "building")),
    Spec("household_leads", (
        _STREET, _COMMUNITY, _compound(True), _building(True),
        Col("household", "户（门牌）", "text", True, "党员中心户的门牌号", "101室", ("户", "门牌", "门牌号", "户号")),
        _on("established_on", "挂牌日期", True, "如 2021-03-01", "2021-03-01", ("成立日期", "挂牌时间")),
        _on("dissolved_on", "摘牌日期", False, "仍挂牌则留空", None, ("撤销日期", "摘牌时间")),
    ), ("street", "community", "compound", "building", "household", "established_on"), "lead_id",
        ("community", "compound", "building")),
    Spec("social_orgs", (
        _STREET, _COMMUNITY,
        Col("org", "组织名称", "text", True, "社区社会组织名称，同一社区内不能重名", "江欣苑志愿服务队", ("社会组织", "组织")),
        Col("type", "组织类型", "text", True, "如 志愿服务、公益慈善、文体娱乐、邻里互助、专业服务", "志愿服务", ("类型",)),
        Col("party_led", "是否党建引领", "bool", True, "有党组织或党员负责人：是/否", "是", ("党建引领",)),
        _on("founded_on", "成立日期", True, "如 2019-05-01", "2019-05-01", ("成立时间", "备案日期")),
        _on("dissolved_on", "注销日期", False, "仍活动则留空", None, ("撤销日期", "注销时间")),
    ), ("street", "community", "org"), "org_id", ("community",)),
    Spec("org_monthly", (
        _STREET, _COMMUNITY,
        Col("org", "组织名称", "text", True, "须已在“社会组织”表中（同一社区下）", "江欣苑志愿服务队", ("社会组织", "组织")),
        Col("month", "月份", "month", True, "如 2023-06、2023年6月", "2023-06", ("月",)),
        Col("member_units", "成员单位数", "int", False, "联盟类组织的成员单位数（可空）", None, ("成员单位",)),
        Col("volunteers", "志愿者人数", "int", False, "登记志愿者人数（可空）", 35, ("志愿者", "志愿者数")),
        Col("service_hours", "服务时长（小时）", "float", False, "当月志愿服务时长，单位小时（可空）", 96.5, ("服务时长",)),
    ), ("street", "community", "org", "month"), None, ("community", "org")),
    Spec("tickets", (
        Col("ticket_id", "诉求编号", "text", True, "诉求（工单）编号，唯一", "GD2023060100001", ("工单编号", "编号", "工单号")),
        _STREET, _COMMUNITY,
        _compound(False, "诉求所在小区（可空）；填写时须已在“小区”表中"),
        _building(False, "诉求所在楼栋（可空；填楼栋时须填小区）"),
        Col("category_l1", "一级分类", "text", True, "如 物业管理", "物业管理", ("分类",)),
        Col("category_l2", "二级分类", "text", False, "如 设施维修（可空）", "设施维修"),
        Col("category_l3", "三级分类", "text", False, "如 下水道堵塞（可空）", "下水道堵塞"),
        Col("channel", "渠道", "text", False, "如 12345热线、网格员上报（可空）", "12345热线", ("来源渠道", "受理渠道")),
        Col("received_at", "受理时间", "datetime", True, "如 2023-06-01 09:30 或 2023/6/1", "2023-06-01 09:30", ("受理日期",)),
        Col("due_at", "办理时限", "datetime", False, "应办结时间（可空）", "2023-06-08 09:30", ("应办结时间", "截止时间")),
        Col("closed_at", "办结时间", "datetime", False, "未办结则留空；不能早于受理时间", "2023-06-03 16:00", ("办结日期",)),
        Col("status", "办理状态", "text", False, "如 已办结、办理中（可空）", "已办结", ("状态",)),
        Col("contacted", "回访联系上", "bool", False, "回访是否联系上诉求人：是/否；未回访留空", "是", ("是否联系上", "响应", "是否联系")),
        Col("solved", "是否解决", "bool", False, "诉求人表示问题已解决：是/否；未回访留空", "是", ("解决",)),
        Col("satisfaction", "满意度", "satisfaction", False, "非常满意/满意/基本满意/不满意/非常不满意；未回访留空", "满意", ("满意程度",)),
    ), ("ticket_id",), None, ("community", "compound", "building")),
    Spec("practices", (
        _STREET, _COMMUNITY,
        Col("practice", "做法名称", "text", True, "经验做法的名称", "小区管网改造", ("经验做法", "做法")),
        _on("started_on", "开始日期", True, "如 2023-06-01 或 2023年6月（按当月1日）", "2023-06-01", ("开始时间",)),
        Col("related_category", "相关诉求分类", "text", False, "与之相关的诉求分类（可空），用于对比前后诉求量", "下水道堵塞", ("诉求分类",)),
        Col("description", "说明", "text", False, "简要说明（可空）", "更换小区主排水管", ("描述", "内容")),
        Col("source", "来源", "text", False, "信息来源（可空），如 街道工作简报", "街道工作简报", ("信息来源",)),
    ), ("street", "community", "practice", "started_on"), "practice_id", ("community",)),
]}

KIND_EXPECTED = {
    "text": "文字",
    "int": "非负整数，如 120",
    "float": "非负数字，如 0.45",
    "date": "日期，如 2023-06-01、2023/6/1 或 2023年6月1日",
    "month": "月份，如 2023-06 或 2023年6月",
    "datetime": "日期时间，如 2023-06-01 09:30、2023/6/1 9:00 或 2023年6月1日",
    "bool": "是/否（也可填 已联系/未联系、已解决/未解决、Y/N、1/0、true/false）",
    "ctype": "城市 或 农村（也可填 urban/rural）",
    "satisfaction": "非常满意、满意、基本满意、不满意、非常不满意之一",
}


def _norm_header(text) -> str:
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s*＊]", "", s)


def header_map(spec: Spec, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised header text -> canonical column name (or pseudo-field). A mapping
    ({field: the file's header}) comes first: its headers mean what it says."""
    out = {}
    for c in spec.cols:
        for h in (c.name, c.label, *c.aliases):
            out[_norm_header(h)] = c.name
    for field, headers in PSEUDO_ALIASES.get(spec.table, {}).items():
        for h in headers:
            out[_norm_header(h)] = field
    for field, header in (mapping or {}).items():
        out[_norm_header(header)] = field
    return out


# Which rows refer to rows of a table (child table, column), for safe deletes.
CHILDREN = {
    "communities": [("compounds", "community_id"), ("buildings", "community_id"), ("branches", "community_id"),
                    ("building_groups", "community_id"), ("household_leads", "community_id"),
                    ("social_orgs", "community_id"), ("tickets", "community_id"), ("practices", "community_id")],
    "compounds": [("buildings", "compound_id"), ("branches", "compound_id"), ("tickets", "compound_id")],
    "buildings": [("building_groups", "building_id"), ("household_leads", "building_id"), ("tickets", "building_id")],
    "social_orgs": [("org_monthly", "org_id")],
}


# Column mapping (a file whose headers are not the template's): besides the template's columns, a
# mapping may name two pseudo-fields of the tickets table.
PSEUDO_FIELDS = {
    "tickets": {
        "category": ("诉求分类（路径）", "一列写全三级分类，如 物业管理/设施维修/下水道堵塞（也可用 >、›、- 或全角符号分隔）"),
        "satisfaction_stars": ("满意度（1—5 星）", "满意度写成 1—5 星：5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意"),
    },
}
# Headers recognised as a pseudo-field without a mapping (a plain value is a first-level category).
PSEUDO_ALIASES = {"tickets": {"category": ("诉求分类", "分类路径", "问题分类", "诉求类别", "category")}}
# Header words that suggest a field in the mapping step (pre-filled, the user confirms): a file
# column whose header contains one of these is offered first for that field.
SUGGEST = {
    "street": ("街道", "乡镇", "镇"), "community": ("社区", "村居", "村"),
    "compound": ("小区",), "building": ("楼栋", "单元", "楼号"),
    "ticket_id": ("工单编号", "工单号", "编号", "流水号"), "received_at": ("受理时间", "受理日期", "来电时间", "派单时间"),
    "category": ("诉求分类", "分类", "类别", "问题类型"), "due_at": ("办理时限", "时限", "截止"),
    "closed_at": ("办结时间", "办结日期", "结案时间"), "contacted": ("是否联系", "联系", "响应"),
    "solved": ("是否解决", "解决"), "satisfaction": ("满意度", "满意", "评价"), "channel": ("渠道", "来源"),
    "status": ("状态",),
}


def field_labels(table: str) -> dict[str, str]:
    """Every field a mapping may name for `table`: template column name -> its Chinese label."""
    out = {c.name: c.label for c in SPECS[table].cols}
    out.update({k: v[0] for k, v in PSEUDO_FIELDS.get(table, {}).items()})
    return out
