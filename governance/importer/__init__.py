"""The importer: the only code that writes users' data.

A street's own file (CSV in UTF-8 / UTF-8 with BOM / GBK / GB18030, or .xlsx) for one table is
read, every problem is found in one pass and reported as (Excel row, column, value, what is
wrong, what is expected) in Chinese, and only a file without problems is written, in one
transaction. Every written row carries source='import' and its batch_id; every batch is listed
in `import_batches` and can be undone: rows it added are deleted and rows it updated get back
their previous version from `undo_<table>`. Removing the demonstration data is a batch too.

Rows name their community (and compound, building, organisation) within their street; the
importer resolves the names to ids. SQL identifiers here come only from the table specs.

One module per concern:
    specs         what each table accepts (columns, kinds, aliases, keys)
    problems      Problem / ImportRefused / Report / BatchResult
    reading       bytes to raw cells (CSV decoding, .xlsx, the header row)
    values        cells to typed values, bad cells recorded by row and column
    validation    every problem of a file in one pass, nothing written
    writing       the one transaction that writes a batch
    undo          undoing a batch
    demo_removal  removing (and restoring) the demonstration data
    export        stored rows back in the import format
    workbook      one workbook, a sheet per table, one batch
    mapping       a file's own headers mapped to fields, saved by name in the database
"""

from governance.importer.demo_removal import demo_row_count, remove_demo_data
from governance.importer.export import export_frame
from governance.importer.problems import BatchResult, ImportRefused, Problem, Report
from governance.importer.reading import RawTable, read_raw, sheet_names
from governance.importer.specs import (
    CHILDREN, DEMO_REMOVAL, KIND_EXPECTED, MAX_FILE_BYTES, MAX_PROBLEMS_KEPT, SATISFACTION, SPECS, Col, Spec,
    header_map,
)
from governance.importer.mapping import (
    MappingError, delete_mapping, find_mapping, load_mapping, parse_map_args, save_mapping, saved_mappings,
    suggest_mapping,
)
from governance.importer.reading import file_headers
from governance.importer.specs import PSEUDO_FIELDS, field_labels
from governance.importer.undo import undo
from governance.importer.validation import validate
from governance.importer.workbook import WORKBOOK, WORKBOOK_LABEL, BookReport, import_workbook, sheet_table
from governance.importer.writing import Source, _write, import_file, import_sources

__all__ = [
    "BatchResult", "CHILDREN", "Col", "DEMO_REMOVAL", "ImportRefused", "KIND_EXPECTED", "MAX_FILE_BYTES",
    "MAX_PROBLEMS_KEPT", "Problem", "RawTable", "Report", "SATISFACTION", "SPECS", "Spec",
    "demo_row_count", "export_frame", "header_map", "import_file", "read_raw", "remove_demo_data", "sheet_names",
    "undo", "validate", "_write", "MappingError", "delete_mapping", "find_mapping", "load_mapping",
    "parse_map_args", "save_mapping", "saved_mappings", "suggest_mapping", "file_headers", "PSEUDO_FIELDS",
    "field_labels", "WORKBOOK", "WORKBOOK_LABEL", "BookReport", "import_workbook", "sheet_table", "Source",
    "import_sources",
]
