"""The core's UI macros (macros/ui.html) that every plugin template uses: markup, choices, escaping."""

from __future__ import annotations

import re

from flask import render_template_string

IMPORT = '{% from "macros/ui.html" import badge, status_badge, card_table, search_box, filter_select %}'
EVIL = '<script>alert("x")</script>'


def render(app, source: str, path: str = "/", **context) -> str:
    with app.test_request_context(path):
        return render_template_string(IMPORT + source, **context)


def test_badge_escapes_its_text_and_keeps_test_ids(app):
    html = render(app, "{{ badge(text, 'warning', 'payment-needs-review', class_='ms-1', icon='alarm') }}", text=EVIL)
    assert EVIL not in html and "&lt;script&gt;" in html
    assert 'class="badge text-bg-warning ms-1"' in html
    assert 'data-testid="payment-needs-review"' in html and '<i class="bi bi-alarm"></i>' in html


def test_status_badge_takes_label_and_colour_from_the_mappings(app):
    labels, styles = {"open": "Open"}, {"open": "primary"}
    html = render(app, "{{ status_badge('open', labels, styles, 'ticket-status', with_status=True) }}",
                  labels=labels, styles=styles)
    assert re.fullmatch(r'<span class="badge text-bg-primary" data-testid="ticket-status" data-status="open">Open</span>',
                        html.strip())
    # An unknown code shows as itself, in grey, and is escaped.
    html = render(app, "{{ status_badge(code, labels, styles) }}", code=EVIL, labels=labels, styles=styles)
    assert "text-bg-secondary" in html and EVIL not in html and "data-status" not in html


def test_card_table_wraps_the_callers_rows(app):
    html = render(app, "{% call card_table(table_class='table-sm', testid='lines') %}<tbody><tr><td>{{ v }}</td></tr></tbody>{% endcall %}",
                  v=EVIL)
    assert '<div class="table-responsive card shadow-sm">' in html
    assert '<table class="table table-sm mb-0" data-testid="lines">' in html and EVIL not in html
    html = render(app, "{% call card_table(title, class_='mb-3') %}<tbody></tbody>{% endcall %}", title=EVIL)
    assert '<section class="card shadow-sm mb-3">' in html and '<div class="card-header bg-transparent fw-semibold">' in html
    assert EVIL not in html and '<div class="table-responsive">' in html


def test_search_box_and_filter_select_keep_the_choice_of_the_url(app):
    html = render(app, "{{ search_box(request.args.get('q'), 'Order number') }}", path="/?q=%3Cb%3E")
    assert 'name="q" value="&lt;b&gt;"' in html and 'aria-label="Search"' in html and 'placeholder="Order number"' in html
    html = render(app, "{{ filter_select('status', 'Status', 'Any status', [('a', 'A'), ('b', text)]) }}",
                  path="/?status=b", text=EVIL)
    assert '<option value="">Any status</option>' in html and 'aria-label="Status"' in html
    assert '<option value="b" selected>' in html and '<option value="a" >' in html and EVIL not in html


def test_filter_select_reads_objects_strings_and_an_explicit_choice(app):
    class Warehouse:
        def __init__(self, id_, name):
            self.id, self.name = id_, name

    html = render(app, "{{ filter_select('warehouse', 'Warehouse', None, rows, selected=2, value_attr='id', text_attr='name', "
                       "show_label=True, size='sm') }}", path="/?warehouse=1", rows=[Warehouse(1, "North"), Warehouse(2, "South")])
    assert '<option value="2" selected>South</option>' in html and '<option value="1" >North</option>' in html
    assert '<option value="">' not in html and 'id="f-warehouse"' in html and "form-select-sm" in html
    assert '<label class="form-label small mb-0" for="f-warehouse">Warehouse</label>' in html
    html = render(app, "{{ filter_select('currency', 'Currency', 'All', ['CNY', 'EUR']) }}", path="/?currency=EUR")
    assert '<option value="EUR" selected>EUR</option>' in html
