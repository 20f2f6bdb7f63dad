"""Chinese words shown to users: labels, units and number formats."""

from __future__ import annotations

import math
import re

ALL = "全部"
NA = "无数据"

SOURCE_LABELS = {"published": "公开报道", "simulated": "模拟", "import": "导入"}
TYPE_LABELS = {"urban": "城市社区", "rural": "农村社区"}
LEVELS = ["province", "city", "district", "street", "community"]
LEVEL_LABELS = {"province": "省", "city": "市", "district": "区/县级市", "street": "街道/镇", "community": "社区"}

TABLE_LABELS = {
    "communities": "社区", "compounds": "小区", "buildings": "楼栋", "branches": "小区党支部",
    "building_groups": "楼栋党小组", "household_leads": "党员中心户", "social_orgs": "社会组织",
    "org_monthly": "社会组织月度数据", "tickets": "诉求", "practices": "经验做法",
}

SETTING_LABELS = {
    "score_weight_contacted": "综合得分权重：响应率（T2）", "score_weight_solved": "综合得分权重：解决率（T3）",
    "score_weight_satisfied": "综合得分权重：满意率（T4）",
    "org_target_urban": "社会组织目标数：城市社区（S3）", "org_target_rural": "社会组织目标数：农村社区（S3）",
}


def setting_label(key: str) -> str:
    """A setting's Chinese name: '满意率等级权重：不满意（T4）' for satisfaction_weight_不满意."""
    if key in SETTING_LABELS:
        return SETTING_LABELS[key]
    if key.startswith("satisfaction_weight_"):
        return f"满意率等级权重：{key[len('satisfaction_weight_'):]}（T4）"
    return key


FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


_MD_INLINE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~$:"})
_MD_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d{1,9}[.)](?=\s|$))", re.M)


def md_escape(text) -> str:
    """Text from the data or a URL, safe inside Streamlit markdown (captions, notices, labels,
    st.table cells): it shows as typed, with no bold, links, colours, formulas or HTML. Characters
    that act anywhere in a line are backslash-escaped; so is what starts a list or a heading
    underline at the start of a line ("- ", "+ ", "1. ", "---", "==="). Other punctuation stays as
    it is, so "100.0%" reads unchanged; line breaks stay (the comparison table shows two lines)."""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n").translate(_MD_INLINE)
    return _MD_LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], s)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_rate(x, digits: int = 1) -> str:
    return NA if _missing(x) else f"{x * 100:.{digits}f}%"


def fmt_num(x, digits: int = 0) -> str:
    if _missing(x):
        return NA
    return f"{x:,.{digits}f}"


def fmt_count(x) -> str:
    """A count that may be weighted (满意率's level weights): '43', '7,145', but '1.6' where the
    weights leave a fraction (rounding it would change the rate it explains)."""
    if _missing(x):
        return NA
    return fmt_num(x, 0 if abs(x - round(x)) < 1e-9 else 1)


def fmt_count_rate(num, den, r) -> str:
    """A rate with the counts behind it, e.g. '92.3%（120/130）'."""
    if _missing(r):
        return f"{NA}（{fmt_num(num)}/{fmt_num(den)}）" if den is not None else NA
    return f"{fmt_rate(r)}（{fmt_num(num)}/{fmt_num(den)}）"
