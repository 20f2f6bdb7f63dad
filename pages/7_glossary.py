"""指标说明: every indicator's one definition, the settings in force, and what is published vs simulated."""

import pandas as pd
import streamlit as st

from governance import access, runtime, ui
from governance.demo import ARTICLE, PUBLISHED_FACTS
from governance.indicators import BULLETIN_RULES, FAMILIES, by_family
from governance.labels import SOURCE_LABELS, TABLE_LABELS, md_escape, setting_label

ui.frame_guard()
st.title("指标说明")
_actor = runtime.actor()
st.info(f"您的查看范围：{md_escape(_actor.scope.label())}（{access.ROLES.get(_actor.role, _actor.role)}）。"
        "各页面的数字、排名、相似社区和下载都只计算这一范围内的社区。", icon=":material/visibility:")
st.caption("每个指标只有这一处定义；各页面的卡片、图表和下载文件都使用同一份定义。")

for letter, family in FAMILIES.items():
    st.header(f"{letter} · {family}")
    for ind in by_family(letter):
        with st.container(border=True):
            st.markdown(f"#### {ind.code} {ind.name}")
            st.markdown(f"**公式**：{ind.formula}")
            cols = st.columns(3)
            cols[0].markdown(f"**分子**：{ind.numerator}")
            cols[1].markdown(f"**分母**：{ind.denominator}")
            cols[2].markdown(f"**单位**：{ind.unit}")
            st.markdown(f"**依据**：{ind.source}")
            if ind.caveats:
                st.markdown(f"**注意**：{ind.caveats}")
            if ind.parts:
                st.markdown("**包含**：" + "、".join(label for _, label in ind.parts))

st.header("月度通报的规则")
st.caption("“月度通报”页及其 Word、PDF 文件按以下规则排名、判断变化和列出需关注的社区（governance/indicators.py）。")
for rule in BULLETIN_RULES.values():
    st.markdown(f"**{rule.name}**：{rule.text}")

sel = st.session_state.get("selection")
if sel is not None:
    st.header("当前生效的设置")
    settings = runtime.query("settings/in_force", {"as_of": sel.period.end})
    if settings.empty:
        st.info("数据库中没有指标设置（综合得分权重、满意度等级权重、社会组织目标值）。")
    else:
        st.caption(f"截至 {sel.period.end:%Y-%m-%d}（所选期间末日）生效的值；权重和目标都是带生效日期的设置，不是常数。")
        shown = settings.assign(key=settings["key"].map(setting_label), source=settings["source"].map({"default": "默认值", "configured": "本库设置"}))
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config={"key": "设置项", "value": "取值", "effective_from": "生效日期", "note": "说明",
                                    "source": "来源"})
        if (settings["source"] == "default").any():
            st.caption("“默认值”：数据库中没有自己的设置，按本页所述的默认值计算（自最早日期起生效）。")

st.header("公开数字与模拟数据")
lineage = runtime.query("common/lineage")
if lineage.empty:
    st.info("数据库中还没有数据。")
else:
    st.markdown(f"公开数字的来源：{ARTICLE}。以下数字在演示数据中按报道原样再现：")
    st.dataframe(pd.DataFrame([{"社区": f.community, "事项": f.fact, "报道数字": f.value} for f in PUBLISHED_FACTS]),
                 hide_index=True, width="stretch")
    st.markdown("其余数据（户数、日期、诉求、回访结果、模拟社区等）均为模拟，用于演示看板功能。各表行数按来源：")
    wide = lineage.assign(table=lineage["table_name"].map(TABLE_LABELS), kind=lineage["source"].map(SOURCE_LABELS))
    wide = wide.pivot_table(index="table", columns="kind", values="rows", aggfunc="sum", fill_value=0).reset_index()
    st.dataframe(wide.rename(columns={"table": "数据表"}), hide_index=True, width="stretch")
