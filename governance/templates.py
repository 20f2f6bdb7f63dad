"""Import templates: per table, an .xlsx (header row, one example row, and a sheet explaining
every column) or a .csv (UTF-8 with BOM so Excel opens it; header and example row).

The columns, their Chinese headers and examples come from `importer.SPECS`, so a template
always matches what the importer accepts.
"""

from __future__ import annotations

import csv
import io

from governance.importer import KIND_EXPECTED, SPECS

FORMATS = ("xlsx", "csv")


def _example(value) -> str:
    return "" if value is None else str(value)


def explanation_rows(table: str) -> list[list[str]]:
    spec = SPECS[table]
    rows = [["列名（表头）", "英文列名", "是否必填", "格式", "说明", "示例"]]
    for c in spec.cols:
        rows.append([c.label, c.name, "必填" if c.required else "可空", KIND_EXPECTED[c.kind], c.help,
                     _example(c.example)])
    return rows


def template_bytes(table: str, fmt: str = "xlsx") -> bytes:
    """The template file of `table` in `fmt` ('xlsx' or 'csv')."""
    spec = SPECS[table]
    header = [c.label for c in spec.cols]
    example = [c.example for c in spec.cols]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        w.writerow([_example(v) for v in example])
        return buf.getvalue().encode("utf-8-sig")
    if fmt != "xlsx":
        raise ValueError(f"unknown template format {fmt}")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    _table_sheet(wb.active, table)
    bold = Font(bold=True)
    notes = wb.create_sheet("填写说明")
    notes.append([f"“{spec.label}”表（{spec.table}）的导入模板。第 2 行是示例，请删除或改成本街道的数据后再导入。"])
    notes.append(["必填列的表头为黄色。列的顺序可以调整；表头也可以用英文列名。日期可写 2023-06-01、2023/6/1 或 2023年6月1日。"])
    key = "、".join(spec.col(k).label for k in spec.key)
    notes.append([f"同一条记录以“{key}”识别：文件内不能重复；数据库中已有的记录只在选择“更新已有记录”时才会被更新。"])
    notes.append([])
    for row in explanation_rows(table):
        notes.append(row)
    for cell in notes[5]:
        cell.font = bold
    for letter, width in zip("ABCDEF", (18, 16, 10, 36, 50, 20)):
        notes.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _table_sheet(ws, table: str) -> None:
    """A sheet named by the table's label: the header (required columns yellow, each with a note)
    and the example row."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    spec = SPECS[table]
    ws.title = spec.label
    ws.append([c.label for c in spec.cols])
    ws.append([c.example for c in spec.cols])
    bold = Font(bold=True)
    for cell, col in zip(ws[1], spec.cols):
        cell.font = bold
        if col.required:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
        cell.comment = Comment(f"{'必填' if col.required else '可空'}；{KIND_EXPECTED[col.kind]}。{col.help}", "模板")
        ws.column_dimensions[cell.column_letter].width = max(10, 2 * len(col.label) + 4)
    # dates as text keep their form whatever the locale of the Excel that opens the file
    for cell in ws[2]:
        cell.number_format = "@"
    ws.freeze_panes = "A2"


def workbook_template_bytes() -> bytes:
    """The template of a whole street's data: one sheet per table (named by its label, in the order
    they are imported, each with its example row) and a sheet explaining every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from governance.schema import DATA_TABLES

    wb = Workbook()
    notes = wb.active
    notes.title = "填写说明"
    notes.append(["本街道数据的导入模板：每个工作表对应一张表，工作表名即表名（可删去不用的工作表）。"
                  "整个工作簿一次检查、一次导入：任何一处有问题都不会写入任何数据。"])
    notes.append(["每个工作表第 2 行是示例，请删除或改成本街道的数据。必填列的表头为黄色；社区、小区、楼栋、组织按名称对应"
                  "（同一工作簿中前面工作表里的也可以）。日期可写 2023-06-01、2023/6/1 或 2023年6月1日。"])
    notes.append([])
    bold = Font(bold=True)
    notes.append(["工作表", *explanation_rows(DATA_TABLES[0])[0]])
    for cell in notes[4]:
        cell.font = bold
    for table in DATA_TABLES:
        for row in explanation_rows(table)[1:]:
            notes.append([SPECS[table].label, *row])
        _table_sheet(wb.create_sheet(), table)
    for letter, width in zip("ABCDEFG", (16, 18, 16, 10, 36, 50, 20)):
        notes.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


WORKBOOK_TEMPLATE_NAME = "导入模板_整个工作簿.xlsx"


def template_name(table: str, fmt: str = "xlsx") -> str:
    return f"导入模板_{SPECS[table].label}_{table}.{fmt}"
