"""数据管理: download a template, upload a street's own file, check it, import it, undo any
batch, and replace the demonstration data with one's own. All writes go through the importer."""

import hashlib

import streamlit as st

from governance import access, db, exports, importer, runtime, signin, templates, ui
from governance.labels import TABLE_LABELS, md_escape

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BATCHES_SHOWN = 50
PREVIEW_ROWS = 20
MAPPING_PREVIEW_ROWS = 5

ui.frame_guard()
st.title("数据管理")
st.caption("用本街道自己的 Excel / CSV 文件替换演示数据：先下载模板填写，再上传检查，确认后导入。"
           "有任何问题时不会写入任何数据；每次导入都可以撤销。")

flash = st.session_state.pop("data_flash", None)
if flash:
    kind, message = flash
    (st.success if kind == "success" else st.error)(message)

con = runtime.connection()
actor = runtime.actor()
may_import = signin.write_notice(actor, "import")   # a notice says why when not
if not actor.scope.is_all:
    st.info(f"您的范围：{md_escape(actor.scope.label())}。只能导入这一范围内社区的数据：文件中有一行不在范围内，整个文件都不会导入。",
            icon=":material/info:")

# 1. 模板 ------------------------------------------------------------------------------------
st.header("1. 选择数据表，下载模板")
st.caption("先导入社区，再导入小区、楼栋，然后是党组织、社会组织、诉求和经验做法：行里的社区、小区、楼栋、组织按名称对应已导入的数据。"
           "全部数据在一个 Excel 工作簿里（每个工作表一张表）时，选择“整个工作簿”，一次检查、一次导入。")
choices = list(importer.SPECS) + [importer.WORKBOOK]
table = st.selectbox("数据表", choices, key="data_table",
                     format_func=lambda t: (f"{importer.WORKBOOK_LABEL}（每个工作表一张表）" if t == importer.WORKBOOK
                                            else f"{TABLE_LABELS[t]}（{t}）"))
book = table == importer.WORKBOOK
spec = None if book else importer.SPECS[table]
left, right, _ = st.columns([1, 1, 2])
if book:
    left.download_button("下载整个工作簿的模板", templates.workbook_template_bytes(), key="tpl_book",
                         file_name=templates.WORKBOOK_TEMPLATE_NAME, mime=XLSX_MIME, icon=":material/download:")
    st.caption("模板中每张表一个工作表（工作表名即表名，不用的可删去），另有各列的填写说明。")
else:
    left.download_button("下载 Excel 模板", templates.template_bytes(table, "xlsx"), key="tpl_xlsx",
                         file_name=templates.template_name(table, "xlsx"), mime=XLSX_MIME, icon=":material/download:")
    right.download_button("下载 CSV 模板", templates.template_bytes(table, "csv"), key="tpl_csv",
                          file_name=templates.template_name(table, "csv"), mime="text/csv", icon=":material/download:")
    with st.expander(f"“{spec.label}”表各列的填写说明"):
        rows = templates.explanation_rows(table)
        st.dataframe([dict(zip(rows[0], r)) for r in rows[1:]], hide_index=True, width="stretch")
        st.caption("同一条记录以“" + "、".join(spec.col(k).label for k in spec.key) + "”识别。")


def show_problems(report, name: str) -> None:
    """The row-level problem list, with downloads as CSV and as .xlsx (to open beside the file)."""
    st.error(f"发现 {report.problem_count:,} 处问题，没有导入任何数据。请按下表修改文件后重新上传。",
             icon=":material/error:")
    for p in [p for p in report.problems if p.row is None][:3]:  # whole-file problems (e.g. a limit) as text too
        st.markdown(md_escape(f"整个文件：{p.message}。{('应为：' + p.expected) if p.expected else ''}"))
    problems = report.problems_frame()
    st.dataframe(problems, hide_index=True, width="stretch", key="data_problems")
    if report.problem_count > len(problems):
        st.caption(f"仅列出前 {len(problems):,} 处问题。")
    a, b, _ = st.columns([1, 1, 2])
    stem = name.rsplit(".", 1)[0]
    a.download_button("下载问题清单（Excel）", exports.xlsx_bytes(problems, "问题清单"),
                      file_name=f"问题清单_{stem}.xlsx", mime=XLSX_MIME, key="data_problems_xlsx",
                      icon=":material/download:")
    b.download_button("下载问题清单（CSV）", exports.csv_bytes(problems),
                      file_name=f"问题清单_{stem}.csv", mime="text/csv", key="data_problems_csv",
                      icon=":material/download:")


def done(message: str) -> None:
    st.session_state["data_flash"] = ("success", message)
    st.session_state["data_upload_n"] = st.session_state.get("data_upload_n", 0) + 1
    st.session_state.pop("data_check", None)


def head_bytes(data: bytes, rows: int = MAPPING_PREVIEW_ROWS + 12) -> bytes:
    """The first lines of a CSV (the mapping step's preview reads only these); a workbook whole."""
    if data[:4] == b"PK\x03\x04":
        return data
    cut = 0
    for _ in range(rows):
        nxt = data.find(b"\n", cut)
        if nxt < 0:
            return data
        cut = nxt + 1
    return data[:cut]


def mapping_step(table: str, data: bytes, name: str, sheet, sha: str, needed: bool):
    """Say which of the file's columns holds each field; preview the first rows as they would be
    read; save the mapping under a name (then it is used for this file and chosen again for the
    next file with the same headers). Returns nothing: a saved mapping reruns the page."""
    spec = importer.SPECS[table]
    try:
        headers = [h for h in importer.file_headers(data, name, spec, sheet) if h]
    except importer.ImportRefused as exc:
        st.error(md_escape(exc.problems[0].message), icon=":material/error:")
        return
    current = st.session_state.get("data_mapping", {}).get(sha) or importer.suggest_mapping(table, headers)
    fields = importer.field_labels(table)
    none = "（不导入）"
    st.subheader("列对应")
    if needed:
        st.warning("文件的表头与模板不同（例如 12345 热线的导出表）。请为每个字段选择文件中的列，核对预览后保存这个列对应，"
                   "以后表头相同的文件会自动按它读取。", icon=":material/table_edit:")
    st.caption("文件中的列：" + md_escape("、".join(headers)))
    chosen: dict[str, str] = {}
    required = [c.name for c in spec.cols if c.required]
    # the category path (a pseudo-field) beside the required fields; one column with the path gives
    # the three levels (then they are not asked for)
    first = required + (["category"] if "category" in fields else [])
    order = first + [f for f in fields if f not in first and f != "satisfaction_stars"]
    path_col = st.session_state.get(f"map_{sha[:12]}_category", current.get("category"))
    if path_col not in (None, none):
        order = [f for f in order if f not in ("category_l1", "category_l2", "category_l3")]
    cols = st.columns(3)
    for i, fld in enumerate(order):
        pre = current.get(fld) or (current.get("satisfaction_stars") if fld == "satisfaction" else None)
        opts = [none] + headers
        label = fields[fld] + ("（必填）" if fld in required else "")
        pick = cols[i % 3].selectbox(label, opts, index=opts.index(pre) if pre in opts else 0,
                                     key=f"map_{sha[:12]}_{fld}", help=f"字段 {fld}")
        if pick != none:
            chosen[fld] = pick
    if table == "tickets" and "satisfaction" in chosen:
        stars = st.checkbox("满意度一列是 1—5 星（5 星为非常满意）", value="satisfaction_stars" in current,
                            key=f"map_{sha[:12]}_stars")
        if stars:
            chosen["satisfaction_stars"] = chosen.pop("satisfaction")
    if "category" in chosen:
        for lv in ("category_l1", "category_l2", "category_l3"):
            chosen.pop(lv, None)
    cur = con.cursor()
    try:
        preview = importer.validate(cur, table, head_bytes(data), name, sheet=sheet, mapping=chosen, scope=actor.scope)
    finally:
        cur.close()
    st.caption(f"按上面的对应读取文件的前 {MAPPING_PREVIEW_ROWS} 行：")
    if preview.rows is not None and len(preview.rows):
        st.dataframe(preview.preview(MAPPING_PREVIEW_ROWS), hide_index=True, width="stretch", key="data_map_preview")
    row_problems = [p for p in preview.problems if p.row and "示例行" not in p.message]
    missing = [p for p in preview.problems if p.message == "缺少必填列"]
    if missing:
        st.error("还没有对应的必填字段：" + "、".join(md_escape(p.column) for p in missing), icon=":material/error:")
    elif row_problems:
        st.warning(f"前 {MAPPING_PREVIEW_ROWS} 行中有 {len(row_problems)} 处无法识别的值（导入前的检查会列出全部）："
                   + md_escape("；".join(f"第 {p.row} 行 {p.column}：{p.message}" for p in row_problems[:3])),
                   icon=":material/warning:")
    default_name = f"{spec.label}-{name.rsplit('.', 1)[0]}"[:importer.mapping.MAX_NAME]
    map_name = st.text_input("保存为（名称）", value=default_name, key=f"map_{sha[:12]}_name", max_chars=60)
    if st.button("保存并按此对应检查", type="primary", key="data_map_save", icon=":material/save:",
                 disabled=bool(missing)):
        try:
            runtime.write("save_mapping", map_name, table, headers, chosen, actor=actor)
        except (importer.MappingError, access.AccessError) as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state.setdefault("data_mapping", {})[sha] = chosen
        st.session_state["data_mapping_name"] = {sha: map_name.strip()}
        st.session_state.pop("data_check", None)
        st.rerun()


# 2. 上传、检查、导入 ---------------------------------------------------------------------------
st.header("2. 上传文件，检查后导入")
if not may_import:
    st.caption("当前不能导入（原因见页面顶部的提示）。")
upload_key = f"data_upload_{st.session_state.get('data_upload_n', 0)}"
what = "整个工作簿（.xlsx" if book else f"“{spec.label}”表的文件（.xlsx 或 .csv"
upload = None if not may_import else st.file_uploader(f"上传{what}，不超过 {st.get_option('server.maxUploadSize')} MB）",
                          type=["xlsx"] if book else ["xlsx", "csv"], key=upload_key)
st.caption(f"单个文件最大 {st.get_option('server.maxUploadSize')} MB。上传框的英文由浏览器组件显示：Browse files＝选择文件，Drag and drop＝拖放，“File must be … or smaller”＝文件超过 "
           f"{st.get_option('server.maxUploadSize')} MB 未上传（请拆成几个文件，命令行导入不受此限制）。")
update = may_import and st.checkbox("数据库中已有的记录按文件内容更新（例如同一诉求编号的诉求）", key="data_update",
                     help="不勾选时，文件中与已有记录重复的行会被列为问题，整个文件不导入。")
max_bytes = st.get_option("server.maxUploadSize") * 1024 * 1024

if upload is not None and book:
    data = upload.getvalue()
    check_key = (hashlib.sha256(data).hexdigest(), table, None, update, db.data_version(con), None, actor)
    cached = st.session_state.get("data_check")
    if cached is None or cached[0] != check_key:
        with st.spinner("正在检查整个工作簿……"):
            report, _ = runtime.write("import_workbook", data, upload.name, update=update, actor=actor,
                                              max_bytes=max_bytes, dry_run=True)
        for r in report.reports:  # a preview only: the import reads the workbook again
            r.rows = None
        st.session_state["data_check"] = (check_key, report)
    report = st.session_state["data_check"][1]
    for warning in report.warnings:
        st.warning(md_escape(warning), icon=":material/info:")
    if report.reports:
        st.dataframe(report.summary(), hide_index=True, width="stretch", key="data_book_summary")
    if not report.ok:
        show_problems(report, upload.name)
    else:
        total = sum(r.n_new + r.n_update for r in report.reports)
        st.success(f"检查通过：{len(report.reports)} 个工作表共 {total:,} 行，将作为一个批次一次导入。"
                   "请核对上表，确认后点击“导入”。", icon=":material/check_circle:")
        if st.button("导入", type="primary", key="data_import", icon=":material/upload:"):
            with st.spinner("正在导入整个工作簿……"):
                result_book, result = runtime.write("import_workbook", data, upload.name, update=update, actor=actor,
                                                            max_bytes=max_bytes)
            if result is None:
                st.session_state["data_flash"] = ("error", "导入前的复核发现了问题（数据可能刚被其他人修改），没有导入任何数据；请重新上传检查。")
                st.session_state.pop("data_check", None)
            else:
                parts = "、".join(f"{importer.SPECS[r.table].label} {r.n_new + r.n_update:,} 行" for r in result_book.reports)
                done(f"已导入工作簿 {md_escape(upload.name)}：第 {result.batch_id} 批（{parts}）。所有页面已按新数据更新。")
            st.rerun()

elif upload is not None:
    data = upload.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    sheet = None
    if data[:4] == b"PK\x03\x04":
        try:
            names = importer.sheet_names(data)
        except Exception:
            names = []
        if len(names) > 1:
            sheet = st.selectbox("工作表", names, key="data_sheet")
    mapping = st.session_state.get("data_mapping", {}).get(sha)
    mapping_name = st.session_state.get("data_mapping_name", {}).get(sha)
    if mapping is None:  # a saved mapping for files with these headers is chosen automatically
        try:
            found = importer.find_mapping(con, table, importer.file_headers(data, upload.name, spec, sheet))
        except importer.ImportRefused:
            found = None
        if found is not None:
            mapping_name, mapping = found
    check_key = (sha, table, sheet, update, db.data_version(con), repr(sorted((mapping or {}).items())), actor)
    cached = st.session_state.get("data_check")
    if cached is None or cached[0] != check_key:
        with st.spinner("正在检查文件……"):
            cur = con.cursor()
            try:
                report = importer.validate(cur, table, data, upload.name, sheet=sheet, update=update,
                                           max_bytes=max_bytes, mapping=mapping, scope=actor.scope)
            finally:
                cur.close()
        if report.rows is not None and len(report.rows) > PREVIEW_ROWS:
            # the page shows a preview only, and 导入 reads the file again inside its transaction:
            # keeping every parsed row in the session would hold a second copy during the import
            report.rows = report.rows.head(PREVIEW_ROWS).copy()
        st.session_state["data_check"] = (check_key, report)
    report = st.session_state["data_check"][1]
    if mapping_name:
        st.info(f"按列对应“{md_escape(mapping_name)}”读取这个文件。", icon=":material/table_edit:")
    # headers not recognised (no header row, or a required column missing): the mapping step
    needs_mapping = any(p.message == "缺少必填列" or p.message.startswith("找不到“") for p in report.problems)
    if needs_mapping or st.toggle("调整列对应（文件的列名与模板不同时）", key=f"data_map_open_{sha[:12]}"):
        mapping_step(table, data, upload.name, sheet, sha, needs_mapping)
    if not needs_mapping:
        for warning in report.warnings:
            st.warning(md_escape(warning), icon=":material/info:")
        if not report.ok:
            show_problems(report, upload.name)
        else:
            st.success(f"检查通过：共 {report.n_new + report.n_update:,} 行，将新增 {report.n_new:,} 行、"
                       f"更新 {report.n_update:,} 行。请核对下面的预览，确认后点击“导入”。", icon=":material/check_circle:")
            st.dataframe(report.preview(PREVIEW_ROWS), hide_index=True, width="stretch", key="data_preview")
            if report.n_new + report.n_update > PREVIEW_ROWS:
                st.caption(f"预览仅显示前 {PREVIEW_ROWS} 行。")
            if st.button("导入", type="primary", key="data_import", icon=":material/upload:"):
                with st.spinner("正在导入……"):
                    _, result = runtime.write("import_file", table, data, upload.name, sheet=sheet, update=update,
                                                     max_bytes=max_bytes, mapping=mapping, actor=actor)
                if result is None:
                    st.session_state["data_flash"] = ("error", "导入前的复核发现了问题（数据可能刚被其他人修改），没有导入任何数据；请重新上传检查。")
                    st.session_state.pop("data_check", None)
                else:
                    done(f"已导入 {md_escape(upload.name)}：第 {result.batch_id} 批，{spec.label}表新增 {result.added:,} 行、"
                         f"更新 {result.updated:,} 行。所有页面已按新数据更新。")
                st.rerun()

# 3. 导入记录 --------------------------------------------------------------------------------
st.header("3. 导入记录")
batches = runtime.query("data/batches")
batches = batches[batches["in_scope"]]   # a scoped user sees only batches wholly inside the scope
may_undo = access.allowed(actor, "undo").ok
may_restore_demo = access.allowed(actor, "remove_demo").ok
if batches.empty:
    st.info("还没有导入过数据。" if actor.scope.is_all else "您的范围内还没有导入过数据。", icon=":material/info:")
else:
    st.caption("撤销一个批次：删除它新增的行，把它更新过的行恢复成导入前的样子。每一批都记录了是谁在什么时候导入、撤销的。")
    for b in batches.head(MAX_BATCHES_SHOWN).itertuples():
        with st.container(border=True):
            info, action = st.columns([5, 1], vertical_alignment="center")
            demo_batch = b.table_name == importer.DEMO_REMOVAL
            if demo_batch:
                what = f"**第 {b.batch_id} 批** · 替换演示数据 · {md_escape(b.file_name)}"
            else:
                kind = importer.WORKBOOK_LABEL if b.table_name == importer.WORKBOOK else TABLE_LABELS.get(b.table_name, b.table_name)
                what = (f"**第 {b.batch_id} 批** · {kind} · {md_escape(b.file_name)} · "
                        f"新增 {b.rows_added:,} 行，更新 {b.rows_updated:,} 行")
            info.markdown(what)
            when = f"{b.imported_at:%Y-%m-%d %H:%M} 由 {md_escape(b.imported_by or '（未记录）')} 导入"
            if b.sha256:
                when += f" · SHA-256 {b.sha256[:12]}…"
            if b.undone_at is not None and b.undone_at == b.undone_at:
                by = f" 由 {md_escape(b.undone_by)}" if isinstance(b.undone_by, str) else ""
                info.caption(f"{when} · 已于 {b.undone_at:%Y-%m-%d %H:%M}{by} 撤销")
                action.caption("已撤销")
            else:
                info.caption(when)
                if (may_restore_demo if demo_batch else may_undo) and \
                        action.button("撤销", key=f"undo_{b.batch_id}", icon=":material/undo:"):
                    try:
                        st.session_state["data_flash"] = ("success", runtime.write("undo", int(b.batch_id), actor=actor))
                    except importer.ImportRefused as exc:
                        p = exc.problems[0]
                        st.session_state["data_flash"] = ("error", f"不能撤销：{p.message}。{p.expected}")
                    except access.AccessError as exc:
                        st.session_state["data_flash"] = ("error", f"不能撤销：{exc}")
                    st.session_state.pop("data_check", None)
                    st.rerun()
    if len(batches) > MAX_BATCHES_SHOWN:
        st.caption(f"仅显示最近 {MAX_BATCHES_SHOWN} 批。")

# 4. 演示数据 --------------------------------------------------------------------------------
if access.ROLE_ACTIONS[actor.role] >= {"remove_demo"}:
    lineage = runtime.query("common/lineage")
    demo_rows = int(lineage.loc[lineage["source"].isin(["simulated", "published"]), "rows"].sum()) if not lineage.empty else 0
    st.header("4. 用本街道的数据替换演示数据")
    if demo_rows == 0:
        st.caption("数据库中没有演示数据。")
    elif may_restore_demo:
        st.markdown(f"数据库中有 **{demo_rows:,}** 行演示数据（模拟数据和报道中的公开数字）。删除后，各页面只显示本街道导入的数据，"
                    "页面顶部的“演示数据”提示也会消失。这一操作记为一个批次，需要时可在上面的导入记录中撤销、恢复演示数据。")
        confirm = st.checkbox(f"我确认删除全部 {demo_rows:,} 行演示数据", key="data_confirm_demo")
        if st.button("删除演示数据", disabled=not confirm, key="data_remove_demo", icon=":material/delete:"):
            try:
                st.session_state["data_flash"] = ("success", runtime.write("remove_demo_data", actor=actor))
            except importer.ImportRefused as exc:
                p = exc.problems[0]
                st.session_state["data_flash"] = ("error", f"未删除：{p.message}。{p.expected}")
            except access.AccessError as exc:
                st.session_state["data_flash"] = ("error", f"未删除：{exc}")
            st.session_state.pop("data_check", None)
            st.rerun()
    else:
        st.caption(f"数据库中有 {demo_rows:,} 行演示数据；当前不能删除（原因见页面顶部的提示）。")
