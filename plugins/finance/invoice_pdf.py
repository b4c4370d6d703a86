"""PDF of an invoice or credit note (fpdf2), in the reader's language, with a CJK TrueType font.

fpdf2 embeds TrueType outlines; the OpenType/CFF Noto CJK collections lose their text layer (a
PDF reader cannot copy or search the Chinese), so the default is WenQuanYi Micro Hei (Debian's
``fonts-wqy-microhei``, a TrueType collection). The setting ``finance.invoice.font`` names another
.ttf/.ttc file; when none is found the download answers with a message saying what to install.
"""

from __future__ import annotations

import os
from io import BytesIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.i18n import filter_money
from erp_core.timeutil import to_zone
from plugins.orders.public import rate_label

from .services import invoices as service

FONT_SETTING = "finance.invoice.font"
DEFAULT_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                 "/usr/share/fonts/truetype/arphic/uming.ttc")


class FontMissing(DomainError):
    code = "font_missing"
    status = 503


def font_path() -> str:
    """The CJK TrueType font file PDFs are drawn with: the setting, else the first Debian font found."""
    chosen = str(settings.get(FONT_SETTING) or "").strip()
    candidates = (chosen,) if chosen else DEFAULT_FONTS
    for path in candidates:
        if path and os.path.isfile(path):
            return path
    raise FontMissing(_("PDF invoices need a Chinese TrueType font: install the Debian package fonts-wqy-microhei "
                        "or name a .ttf/.ttc file in the setting \"Font of PDF invoices\" (tried %(paths)s).",
                        paths=", ".join(candidates)))


def check_font(value) -> str | None:
    """Setting validator: an empty value (the default font) or an existing .ttf/.ttc file."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.lower().endswith((".ttf", ".ttc")):
        return _("A TrueType font file (.ttf or .ttc).")
    return None if os.path.isfile(value) else _("No such file on the server.")


def _money(minor: int, currency: str) -> str:
    return filter_money(minor, currency)


def render(invoice, logo: bytes | None = None) -> bytes:
    """The PDF of ``invoice`` (A4) as bytes, in the current language."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(invoice.number)
    pdf.set_creator("ERP")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", fname=font_path())
    pdf.add_page()
    if logo:
        try:
            pdf.image(BytesIO(logo), x=pdf.l_margin, y=10, h=16)
        except Exception:  # noqa: BLE001 - an unreadable logo leaves the PDF without it
            current_app.logger.warning("invoice logo could not be drawn")
    _header(pdf, invoice)
    _parties(pdf, invoice)
    _lines(pdf, invoice)
    _totals(pdf, invoice)
    return bytes(pdf.output())


def title_of(invoice) -> str:
    return pgettext("finance", "Credit note") if invoice.is_credit_note else pgettext("finance", "Invoice")


def _header(pdf, invoice) -> None:
    seller = invoice.seller
    pdf.set_font("cjk", size=16)
    pdf.set_xy(pdf.l_margin + 40, 10)
    pdf.cell(0, 8, seller.get("name", ""), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 7, f"{title_of(invoice)} {invoice.number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    issued = to_zone(invoice.issued_at, settings.company_timezone()).date().isoformat()
    pdf.cell(0, 5, _("Issued %(day)s", day=issued), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.invoice is not None:
        pdf.cell(0, 5, _("Corrects invoice %(number)s", number=invoice.invoice.number), align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, _("Order %(number)s", number=invoice.order.number), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.shipment_number:
        pdf.cell(0, 5, _("Shipment %(number)s", number=invoice.shipment_number), align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _party_lines(details: dict, name_key: str) -> list[str]:
    rows = [details.get(name_key, "")]
    for key, label in (("taxpayer_id", _("Taxpayer ID")), ("address", _("Address")), ("phone", _("Phone")),
                       ("bank", _("Bank")), ("account", _("Account"))):
        if details.get(key):
            rows.append(f"{label}: {details[key]}")
    return rows


def _parties(pdf, invoice) -> None:
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    top = pdf.get_y()
    for column, (heading, rows) in enumerate(((pgettext("finance", "Seller"), _party_lines(invoice.seller, "name")),
                                              (pgettext("finance", "Buyer"), _party_lines(invoice.buyer, "title")))):
        pdf.set_xy(pdf.l_margin + column * width, top)
        pdf.set_font("cjk", size=8)
        pdf.cell(width, 5, heading, new_x="LEFT", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        for row in rows:
            pdf.set_x(pdf.l_margin + column * width)
            pdf.multi_cell(width - 4, 5, row, new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + 30) + 4)


COLUMNS = (0.34, 0.08, 0.14, 0.08, 0.12, 0.12, 0.12)


def _lines(pdf, invoice) -> None:
    full = pdf.w - pdf.l_margin - pdf.r_margin
    widths = [full * c for c in COLUMNS]
    heads = [pgettext("finance", "Item"), pgettext("finance", "Quantity"), pgettext("finance", "Unit price"),
             pgettext("finance", "Tax rate"), pgettext("finance", "Net"), pgettext("finance", "Tax"),
             pgettext("finance", "Amount")]
    pdf.set_font("cjk", size=8)
    pdf.set_fill_color(238, 238, 238)
    for width, head, index in zip(widths, heads, range(len(heads)), strict=True):
        pdf.cell(width, 6, head, border="B", align="L" if index == 0 else "R", fill=True)
    pdf.ln()
    pdf.set_font("cjk", size=9)
    for line in invoice.lines:
        name = f"{line.name} ({line.sku})" if line.sku else line.name
        cells = [name, str(line.quantity), _money(line.unit_price_minor, invoice.currency),
                 rate_label(line.tax_rate_percent, line.tax_exempt),
                 _money(line.net_minor, invoice.currency), _money(line.tax_minor, invoice.currency),
                 _money(line.gross_minor, invoice.currency)]
        for width, text, index in zip(widths, cells, range(len(cells)), strict=True):
            shown = text if pdf.get_string_width(text) < width - 1 else _fit(pdf, text, width - 1)
            pdf.cell(width, 6, shown, border="B", align="L" if index == 0 else "R")
        pdf.ln()


def _fit(pdf, text: str, width: float) -> str:
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _totals(pdf, invoice) -> None:
    pdf.ln(3)
    full = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("cjk", size=9)
    for share in service.rate_totals(invoice):
        label = _("Tax at %(rate)s on %(net)s", rate=rate_label(share.percent, share.exempt),
                  net=_money(share.net, invoice.currency))
        pdf.cell(full * 0.8, 5, label, align="R")
        pdf.cell(full * 0.2, 5, _money(share.tax, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    for label, minor in ((pgettext("finance", "Net"), invoice.net_minor), (pgettext("finance", "Tax"), invoice.tax_minor),
                         (pgettext("finance", "Total"), invoice.gross_minor)):
        pdf.cell(full * 0.8, 6, label, align="R")
        pdf.cell(full * 0.2, 6, _money(minor, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")

