"""The one written definition of every indicator.

The glossary page, chart titles, cards and tests read these; nothing else defines an
indicator's name or formula. Sources are named as publications (never as file paths).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FAMILIES = {
    "C": "组织覆盖",
    "S": "社区社会组织",
    "T": "诉求办理",
}

SMALL_SAMPLE = 30  # rates on fewer follow-ups than this are marked unreliable


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    formula: str
    numerator: str
    denominator: str
    unit: str
    source: str
    caveats: str = ""
    parts: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (key, label) sub-measures

    @property
    def family(self) -> str:
        return FAMILIES[self.code[0]]

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def header(self) -> str:
        """A table header: the name first, the code after it."""
        return f"{self.name}（{self.code}）"


_AS_OF = "截至日期 D（所选期间的最后一天）仍存续的实体：成立日 ≤ D 且（未撤销或撤销日 > D）。"
_REG = "《中国共产党支部工作条例（试行）》"
_MCA = "民政部《关于大力培育发展社区社会组织的意见》（2017）"
_ART = "《人民日报》2023 年 8 月《优势发挥出来 力量凝聚起来》（全国社区党组织书记和居委会主任视频培训班报道）"
_BJ = "北京市接诉即办“三率”考核口径（响应率、解决率、满意率，均来自回访）"

INDICATORS: dict[str, Indicator] = {i.code: i for i in [
    Indicator("C1", "小区党支部覆盖率", "有至少一个小区党支部的小区数 ÷ 小区总数",
              "有党支部的小区数", "小区数", "%", _ART + "；" + _REG,
              _AS_OF + "没有小区的社区显示“无数据”，不显示 0%。"),
    Indicator("C2", "楼栋党小组覆盖率", "有楼栋党小组的楼栋数 ÷ 楼栋总数",
              "有党小组的楼栋数", "楼栋数（或单元数）", "%", _ART,
              _AS_OF + "“楼栋”按数据中登记的楼栋或单元计。"),
    Indicator("C3", "每百户党员中心户", "党员中心户数 ÷ 户数 × 100",
              "挂牌党员中心户数", "户数", "户/百户", _ART,
              _AS_OF + "户数为 0 或缺失时显示“无数据”。"),
    Indicator("C4", "组织链完整率",
              "所在小区有党支部、本楼栋有党小组、且有至少一户党员中心户的楼栋数 ÷ 楼栋总数",
              "组织链完整的楼栋数", "楼栋数", "%", _ART,
              _AS_OF + "三项缺一即计为断点，断点清单见“组织覆盖”页。"),
    Indicator("C5", "组织与党员数量", "存续的小区党支部、楼栋党小组、党员中心户个数，及各支部党员数之和",
              "—", "—", "个 / 人", _ART, _AS_OF,
              parts=(("branches", "小区党支部"), ("groups", "楼栋党小组"),
                     ("leads", "党员中心户"), ("members", "党员"))),
    Indicator("C6", "支部设置合规检查",
              "违反条例的支部数：正式党员不足 3 人；7 人及以上未设支委会；超过 50 人（应设党总支），超过 100 人（应设党委）",
              "不合规支部数", "存续支部数", "个", _REG,
              "党员数按支部登记人数计；是否设支委会缺失时不判断该项。"),
    Indicator("S1", "社会组织数", "截至日期 D 存续的社区社会组织数",
              "存续社会组织数", "—", "个", _MCA, _AS_OF),
    Indicator("S2", "每千居民社会组织数", "S1 ÷ 居民数 × 1000",
              "存续社会组织数", "居民数", "个/千人", _MCA,
              "居民数为 0 或缺失时显示“无数据”。"),
    Indicator("S3", "社会组织数达标", "S1 ≥ 目标值（城市社区默认 10 个，农村社区默认 5 个；目标可在设置中修改）",
              "达标社区数", "社区数", "是/否", _MCA,
              "目标值取所选期间末日生效的设置。"),
    Indicator("S4", "新增、注销、净增与同比", "期间内成立数、撤销数、净增 = 成立 − 撤销；同比 = (S1 − 上年同日 S1) ÷ 上年同日 S1",
              "成立数 / 撤销数", "上年同日存续数（同比）", "个 / %", _MCA,
              "上年同日为 0 时同比显示“无数据”，不显示无穷大。",
              parts=(("founded", "新增"), ("dissolved", "注销"), ("net", "净增"), ("yoy", "同比"))),
    Indicator("S5", "党建引领率", "有党组织或由党员负责的社会组织数 ÷ S1",
              "党建引领的社会组织数", "存续社会组织数", "%", _MCA, _AS_OF),
    Indicator("S6", "成员单位、志愿者与服务时长",
              "联盟类组织的成员单位数（月末）；注册志愿者数（每百居民）；期间志愿服务时长之和",
              "成员单位数 / 志愿者数 / 服务小时", "居民数（每百居民志愿者）", "家 / 人 / 小时",
              _MCA + "；" + _ART + "（如西山社区爱心联盟成员单位 14 → 152 家）",
              "只统计报送月度数据的组织；未报送月份不补零。",
              parts=(("member_units", "成员单位"), ("volunteers", "志愿者"), ("service_hours", "服务时长"))),
    Indicator("T1", "诉求量、每千居民诉求量", "期间内受理的诉求件数；件数 ÷ 居民数 × 1000",
              "期间受理诉求数", "居民数", "件 / 件每千人", _BJ,
              "诉求量是“反映次数”，不等于“问题个数”。",
              parts=(("count", "诉求量"), ("per_1000", "每千居民诉求量"))),
    Indicator("T2", "响应率", "回访称已联系的诉求数 ÷ 有效回访数",
              "回访称已联系", "有效回访数", "%", _BJ,
              "无回访记录的诉求不计入分母。有效回访少于 30 件的比率标注为“样本少”，比较时给出 95% Wilson 区间。"),
    Indicator("T3", "解决率", "回访称已解决的诉求数 ÷ 有效回访数",
              "回访称已解决", "有效回访数", "%", _BJ,
              "这是居民说的“解决”，与承办单位报告的办结率（T5）并列展示：办结不等于解决。"),
    Indicator("T4", "满意率", "Σ 各满意度等级权重 ÷ 有效回访数（默认权重：非常满意 1、满意 1、基本满意 0.6、不满意 0、非常不满意 0）",
              "按等级加权的满意回访数", "有效回访数", "%", _BJ,
              "等级权重是设置（带生效日期），取所选期间末日生效的权重。"),
    Indicator("T5", "办结率、按时办结率", "已办结数 ÷ 受理数；在办理时限内办结数 ÷ 已办结数",
              "已办结 / 按时办结", "受理数 / 已办结数", "%", _BJ,
              "办结状态由承办单位报告。无办理时限的办结件计为按时。",
              parts=(("closed_rate", "办结率"), ("on_time_rate", "按时办结率"))),
    Indicator("T6", "办理时长", "从受理到办结的天数：中位数与 P90",
              "—", "期间受理且已办结的诉求", "天", _BJ,
              "未办结的诉求不计入（见 T7 积压）。",
              parts=(("median_days", "中位数"), ("p90_days", "P90"))),
    Indicator("T7", "积压", "截至日期 D 未办结的诉求数，按已受理天数分 ≤7 天、8–30 天、>30 天",
              "未办结诉求数", "—", "件", _BJ,
              "D 之后才办结的诉求在 D 时仍算积压。",
              parts=(("le7", "≤7天"), ("d8_30", "8–30天"), ("gt30", ">30天"))),
    Indicator("T8", "重复诉求率", "同一小区、同一类别在此前 90 天内（含第 90 天）已有诉求的诉求数 ÷ 诉求数",
              "重复诉求数", "期间受理诉求数", "%", "北京市接诉即办“每月一题”（从解剖一个问题到解决一类问题）",
              "类别按三级类别比较；未填小区的诉求不参与判断，但计入分母。"),
    Indicator("T9", "综合得分", "100 ×（w响应 × T2 + w解决 × T3 + w满意 × T4）",
              "—", "—", "分", _BJ + "；各地权重不同（如 0.1/0.5/0.4，或 0.30/0.35/0.35）",
              "默认权重：响应 0.1、解决 0.5、满意 0.4。权重是带生效日期的设置，取所选期间末日生效的权重；改权重不改写更早期间的得分。"),
]}


# The documented defaults (the glossary above states them): put in force from EARLIEST in every
# database that has no value of its own for the key (governance.schema.ensure_default_settings),
# recorded with settings.source = 'default'. (key, value, note)
EARLIEST = "1900-01-01"
DEFAULT_SETTINGS: tuple[tuple[str, float, str], ...] = (
    ("satisfaction_weight_非常满意", 1.0, "满意率等级权重（默认）"),
    ("satisfaction_weight_满意", 1.0, "满意率等级权重（默认）"),
    ("satisfaction_weight_基本满意", 0.6, "满意率等级权重（默认）"),
    ("satisfaction_weight_不满意", 0.0, "满意率等级权重（默认）"),
    ("satisfaction_weight_非常不满意", 0.0, "满意率等级权重（默认）"),
    ("score_weight_contacted", 0.1, "综合得分权重（默认：北京接诉即办一种实施方案 0.1/0.5/0.4）"),
    ("score_weight_solved", 0.5, "综合得分权重（默认：北京接诉即办一种实施方案 0.1/0.5/0.4）"),
    ("score_weight_satisfied", 0.4, "综合得分权重（默认：北京接诉即办一种实施方案 0.1/0.5/0.4）"),
    ("org_target_urban", 10.0, "默认：民政部 2017 年意见，城市社区平均不少于 10 个社区社会组织"),
    ("org_target_rural", 5.0, "默认：民政部 2017 年意见，农村社区平均不少于 5 个社区社会组织"),
)


def get(code: str) -> Indicator:
    return INDICATORS[code]


def by_family(letter: str) -> list[Indicator]:
    return [i for i in INDICATORS.values() if i.code.startswith(letter)]


# ---------------------------------------------------------------- 月度通报 (the monthly bulletin)
# The bulletin's own rules, written once here: the bulletin states them on its page and in its files,
# the glossary page lists them, and the tests read them from here.

CLOSED_HIGH = 0.80   # 办结不等于解决: 办结率 (T5) at or above this …
SOLVED_LOW = 0.70    # … while 解决率 (T3) is below this
BACKLOG_OLD_DAYS = 30  # 需关注: tickets open longer than this at the month's end (T7's oldest band)
RANK_TOP = 3         # 排名: the first and last this many are named


@dataclass(frozen=True)
class Rule:
    key: str
    name: str
    text: str


BULLETIN_RULES: dict[str, Rule] = {r.key: r for r in [
    Rule("ranking", "排名规则",
         f"各社区按本月 T9 综合得分及 T2、T3、T4 分别排名，权重取月末生效的设置；本月有效回访少于 {SMALL_SAMPLE} 件的社区"
         f"单列，不参与排名；点名前 {RANK_TOP} 名和后 {RANK_TOP} 名。"),
    Rule("significance", "显著变化",
         "本月与上月的比率各取 95% Wilson 区间：两个区间不重叠才称“显著”，重叠则称“可能为偶然波动”。"),
    Rule("closed_not_solved", "办结不等于解决",
         f"本月办结率（T5，承办单位报告）≥ {CLOSED_HIGH * 100:.0f}%，而解决率（T3，居民回访）< {SOLVED_LOW * 100:.0f}% 的社区。"),
    Rule("old_backlog", "超期积压",
         f"月末仍未办结、已受理超过 {BACKLOG_OLD_DAYS} 天的诉求（T7 中“>30天”一档），按社区列出。"),
    Rule("structure_fell", "组织与达标下降",
         "本月末 C4 组织链完整率低于上月末的社区，以及上月末达标、本月末不再达标（S3）的社区。"),
    Rule("problem_verdict", "每月一题判定",
         "按北京“每月一题”的口径：相关类别本月诉求量低于上月为“好转”，与上月相同为“持平”，高于上月为“反弹”；"
         "判定注明所依据的月份。另列开始前 6 个月的月均诉求量作为基线。"),
]}


def problem_verdict(previous: float | None, current: float | None) -> str | None:
    """Beijing's 每月一题 rule (BULLETIN_RULES['problem_verdict']): volume down month on month → 好转,
    equal → 持平, up → 反弹; None when either month has no data."""
    if previous is None or current is None:
        return None
    if current < previous:
        return "好转"
    if current == previous:
        return "持平"
    return "反弹"
