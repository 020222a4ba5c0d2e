"""Roster files: recognising, reading and writing the one-sheet roster (.xlsx or .csv).

Only the shape of the file is checked here (type, size, header row); what the rows say is checked
by ``elearn.service.rosters``. Every refusal is a ``ServiceError`` with a message the uploader can
act on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from elearn.service.errors import ServiceError

# The columns, in template order. Headers are Chinese whatever the UI language: they are what the
# schools' own spreadsheets say.
SCHOOL_CODE = "学校代码"
GRADE = "年级"
CLASS = "班级"
ROLE = "角色"
EXTERNAL_ID = "编号"
NAME = "姓名"
PHONE = "手机号"
STUDENT_ID = "关联学生编号"
RELATION = "关系"
COLUMNS = [SCHOOL_CODE, GRADE, CLASS, ROLE, EXTERNAL_ID, NAME, PHONE, STUDENT_ID, RELATION]
REQUIRED_COLUMNS = [GRADE, CLASS, ROLE, EXTERNAL_ID, NAME]

COLUMN_HELP = {
    SCHOOL_CODE: _l(
        "The school's code. Required when a county imports (it names a school of the county); "
        "may be left empty when a school imports its own roster."
    ),
    GRADE: _l("Grade, e.g. 七年级, 初一 or 7. Teachers may leave it empty (whole school)."),
    CLASS: _l("Class, e.g. 1班 or 1. Grades and classes are created when they do not exist yet."),
    ROLE: _l("学生 (student), 教师 (teacher) or 家长 (parent or guardian)."),
    EXTERNAL_ID: _l(
        "Student number or staff number; it is the login name and identifies the person in later "
        "imports. Parents may leave it empty: they are identified by their phone number."
    ),
    NAME: _l("Full name."),
    PHONE: _l(
        "11-digit mobile number. Required for parents (it is their login name); optional for "
        "teachers and students."
    ),
    STUDENT_ID: _l(
        "Parents only: the 编号 of their child (in this file or already in the school)."
    ),
    RELATION: _l("Parents only: 父亲, 母亲, 祖父, 祖母, 外祖父, 外祖母 or 其他监护人."),
}

#: who must fill each column in (shown on the upload page)
COLUMN_REQUIRED_FOR = {
    SCHOOL_CODE: _l("county imports"),
    GRADE: _l("students"),
    CLASS: _l("students"),
    ROLE: _l("everyone"),
    EXTERNAL_ID: _l("students and teachers"),
    NAME: _l("everyone"),
    PHONE: _l("parents"),
    STUDENT_ID: _l("parents"),
    RELATION: _l("parents"),
}

EXAMPLE_ROWS = [
    ["", "七年级", "1班", "学生", "2024070101", "王小明", "", "", ""],
    ["", "七年级", "1班", "教师", "T0701", "李华", "13900000001", "", ""],
    ["", "七年级", "1班", "家长", "", "王建国", "13800000001", "2024070101", "父亲"],
]

#: an .xlsx holds a handful of parts; thousands is a crafted archive
MAX_ZIP_ENTRIES = 2000
MAX_HEADER_COLUMNS = 64
_BINARY_SIGNATURES = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc
_ZIP = b"PK\x03\x04"


class RosterFileError(ServiceError):
    """The file itself is unusable (type, size, header); answered before any job is created."""


@dataclass
class RosterRow:
    #: the row number the user sees in Excel (the header is row 1)
    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class RosterTable:
    columns: list[str]
    rows: list[RosterRow] = field(default_factory=list)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def too_large(max_bytes: int) -> RosterFileError:
    return RosterFileError(
        _(
            "The file is larger than %(mb)s MB. Split the roster into several files (for example "
            "one per grade) and import them one after another.",
            mb=_megabytes(max_bytes),
        ),
        status=413,
    )


def _not_a_roster() -> RosterFileError:
    return RosterFileError(
        _(
            "This file is neither an Excel workbook (.xlsx) nor a CSV file. Download the template, "
            "fill it in and upload it."
        )
    )


def _cell_text(value: Any) -> str:
    """A cell as the text the user typed: 13800000001.0 back to 13800000001, spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).replace("\u3000", " ").replace("\u200b", "").replace("\ufeff", "")
    return text.strip()


def _header_name(value: Any) -> str:
    """ "姓名（必填）", " 手机号 *" → "姓名", "手机号"."""
    text = re.sub(r"\s+", "", _cell_text(value))
    text = re.split(r"[(（]", text, maxsplit=1)[0]
    return text.strip("*＊")


def read_roster(
    data: bytes, *, max_rows: int, max_unpacked_bytes: int, quick: bool = False
) -> RosterTable:
    """Recognise the file by its content, read its first sheet and check its header row.

    ``quick`` (while the uploader waits): a workbook is read only up to its first person, since
    parsing the XML of 50,000 rows takes longer than a request should; its rows are counted by the
    import job. A CSV file is cheap to read whole, so its rows are counted at once.
    """
    if not data or not data.strip():
        raise RosterFileError(_("The roster file is empty."))
    rows: Iterator[Iterable[Any]]
    if data.startswith(_ZIP):
        rows = _xlsx_rows(data, max_unpacked_bytes=max_unpacked_bytes)
    elif data.startswith(_OLE2):
        raise RosterFileError(
            _(
                "This is an old Excel file (.xls). Open it in Excel or WPS, save it as .xlsx "
                "(Excel workbook) and upload that."
            )
        )
    elif data.startswith(_BINARY_SIGNATURES) or b"\x00" in data[:8192]:
        raise _not_a_roster()
    else:
        return _table(_csv_rows(data), max_rows=max_rows)
    return _table(rows, max_rows=max_rows, stop_after=1 if quick else None)


def _xlsx_rows(data: bytes, *, max_unpacked_bytes: int) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # slow to import: only when a workbook is read

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterFileError(
            _("The workbook is damaged. Open it in Excel or WPS, save it again as .xlsx and retry.")
        ) from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise RosterFileError(
            _(
                "This is a ZIP archive (or a Word/WPS document), not an Excel workbook. Save the "
                "roster as .xlsx or .csv and upload that."
            )
        )
    # A zip bomb declares its real sizes in the directory (zipfile never inflates past them), so
    # the directory alone tells whether the workbook fits before anything is unpacked.
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_ZIP_ENTRIES or unpacked > max_unpacked_bytes:
        raise RosterFileError(
            _(
                "The workbook unpacks to more than %(mb)s MB, far more than a roster needs. Copy "
                "only the roster columns into a new workbook and upload that.",
                mb=_megabytes(max_unpacked_bytes),
            ),
            status=413,
        )
    workbook = None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read what is there
        header = next(sheet.iter_rows(values_only=True, max_col=MAX_HEADER_COLUMNS), ())
        width = max((i + 1 for i, value in enumerate(header) if _cell_text(value)), default=0)
        yield tuple(header[:width])
        # rows are read lazily, so a sheet of a million rows stops at the row limit
        yield from sheet.iter_rows(min_row=2, max_col=max(width, 1), values_only=True)
    except RosterFileError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken workbook
        raise RosterFileError(
            _("The workbook is damaged. Open it in Excel or WPS, save it again as .xlsx and retry.")
        ) from None
    finally:
        if workbook is not None:
            workbook.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    # Excel on a Chinese Windows saves CSV as GBK; everything else writes UTF-8 (often with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _not_a_roster()
    try:
        return iter(list(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error:
        raise RosterFileError(
            _("The CSV file could not be read. Save it again from Excel as “CSV UTF-8” and retry.")
        ) from None


def _table(
    rows: Iterator[Iterable[Any]], *, max_rows: int, stop_after: int | None = None
) -> RosterTable:
    header = [_header_name(value) for value in next(rows, [])]
    if not any(header):
        raise RosterFileError(_("The roster file is empty."))
    seen: set[str] = set()
    for name in header:
        if name in COLUMNS and name in seen:
            raise RosterFileError(
                _("The header row has the column %(column)s twice. Keep one.", column=name)
            )
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise RosterFileError(
            _(
                "The header row (row 1) lacks the columns %(columns)s. Download the template to "
                "see the expected columns.",
                columns="、".join(missing),
            )
        )
    table = RosterTable(columns=[name for name in header if name in COLUMNS])
    wanted = [(i, name) for i, name in enumerate(header) if name in COLUMNS]
    for number, values in enumerate(rows, start=2):
        cells = list(values)
        texts = {name: _cell_text(cells[i]) if i < len(cells) else "" for i, name in wanted}
        if not any(texts.values()):
            continue
        if len(table.rows) >= max_rows:
            raise RosterFileError(
                _(
                    "The file has more than %(n)d people. Split it into several files (for "
                    "example one per grade) and import them one after another.",
                    n=max_rows,
                ),
                status=413,
            )
        table.rows.append(RosterRow(number=number, cells=texts))
        if stop_after is not None and len(table.rows) >= stop_after:
            break
    if not table.rows:
        raise RosterFileError(
            _("The file has a header row but nobody in it. Add one row per person.")
        )
    return table


def template_csv() -> bytes:
    """The CSV template: the header and one example row per role, UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """The Excel template: the roster sheet (header, one example per role) and a sheet of help."""
    # slow to import: only when the template is asked for
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    sheet.append(COLUMNS)
    for row in EXAMPLE_ROWS:
        sheet.append(row)
    for index, name in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 16 if name != STUDENT_ID else 18
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if name in {EXTERNAL_ID, PHONE, STUDENT_ID, SCHOOL_CODE}:
            # text, so Excel keeps leading zeros and never writes 1.38E+10
            for row_number in range(2, 2001):
                sheet.cell(row=row_number, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet("说明")
    help_sheet.append([_("Column"), _("What to write")])
    for name in COLUMNS:
        help_sheet.append([name, str(COLUMN_HELP[name])])
    help_sheet.append([])
    help_sheet.append(
        [_("Delete the example rows before importing; the header must stay in row 1.")]
    )
    help_sheet.column_dimensions["A"].width = 16
    help_sheet.column_dimensions["B"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
