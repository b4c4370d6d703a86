"""Suppliers from a CSV file (UTF-8 or GB18030, as Excel in China saves it), all or nothing:
every row is checked and any problem refuses the whole file, listing row, column and reason."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.inputs import text_problem

from ..models import Supplier
from .suppliers import SupplierInput, save_supplier

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000

COLUMNS = [
    ("code", True, _l("Supplier code, unique. An existing code updates that supplier.")),
    ("name", True, _l("Supplier name.")),
    ("contact_name", False, _l("Contact person.")),
    ("phone", False, _l("Phone.")),
    ("email", False, _l("E-mail (purchase orders are sent to it).")),
    ("address", False, _l("Address.")),
    ("tax_id", False, _l("Taxpayer ID.")),
    ("currency", False, _l("ISO currency code; the company currency when empty.")),
    ("payment_terms", False, _l("Payment terms, e.g. 30 days net.")),
    ("notes", False, _l("Notes.")),
    ("active", False, _l("yes or no; yes when empty.")),
]


@dataclass(frozen=True)
class Problem:
    """One reason a file was refused: row (the header is row 1), column and message."""

    row: int
    column: str
    message: str


class ImportRefused(DomainError):
    """The file was refused; ``problems`` lists every bad row."""

    code = "import_refused"
    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.row, p.column))
        super().__init__(ngettext("The file was not imported: %(num)d problem. Nothing was changed.",
                                  "The file was not imported: %(num)d problems. Nothing was changed.",
                                  len(self.problems)))


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise DomainError(_("The file is larger than %(mb)d MB; split it.", mb=MAX_BYTES // (1024 * 1024)), field="file")
    if not raw.strip():
        raise DomainError(_("The file is empty."), field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text_problem(text):
            raise DomainError(text_problem(text), field="file")
        return text
    raise DomainError(_("The file is not text in UTF-8 or GB18030; save it as CSV UTF-8."), field="file")


def _header(reader) -> list[str]:
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    except (StopIteration, csv.Error):
        raise DomainError(_("The file is empty."), field="file") from None
    problems = _unknown(header) + _missing(header)
    if problems:
        raise ImportRefused(problems)
    return header


def _unknown(header: list[str]) -> list[Problem]:
    known = {name for name, _req, _help in COLUMNS}
    return [Problem(1, h or "?", _("Unknown column %(name)s.", name=h or "?")) for h in header if h not in known]


def _missing(header: list[str]) -> list[Problem]:
    return [Problem(1, name, _("The column %(name)s is missing.", name=name))
            for name, required, _help in COLUMNS if required and name not in header]


def _table(text: str) -> list[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(text))
    header = _header(reader)
    rows = []
    try:
        for number, values in enumerate(reader, start=2):
            if any(v.strip() for v in values):
                rows.append((number, {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}))
    except csv.Error as exc:
        raise ImportRefused([Problem(reader.line_num, "", _("The file is not valid CSV: %(error)s", error=exc))]) from None
    if not rows:
        raise DomainError(_("The file has a header but no rows."), field="file")
    if len(rows) > MAX_ROWS:
        raise DomainError(_("A file has at most %(n)d rows; split it.", n=MAX_ROWS), field="file")
    return rows


def _active(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "yes", "y", "true", "1", "是"):
        return True
    if value in ("no", "n", "false", "0", "否"):
        return False
    raise DomainError(_("Write yes or no."), field="active")


def import_suppliers(raw: bytes) -> tuple[int, int]:
    """Create or update the suppliers of a CSV file; ``(created, updated)``. Any bad row refuses
    the file with :class:`ImportRefused` (the caller rolls back)."""
    rows = _table(_decode(raw))
    problems, created, updated = [], 0, 0
    for number, row in rows:
        try:
            with db.session.begin_nested():
                existing = db.session.scalar(select(Supplier).where(Supplier.code == row.get("code", "").upper()))
                data = SupplierInput(**{k: v for k, v in row.items() if k != "active"}, active=_active(row.get("active", "")))
                save_supplier(existing, data)
        except DomainError as exc:
            problems.append(Problem(number, exc.field or "", str(exc)))
            continue
        created, updated = (created, updated + 1) if existing else (created + 1, updated)
    if problems:
        raise ImportRefused(problems)
    return created, updated
