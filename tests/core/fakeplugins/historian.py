"""A test plugin declaring an audit vocabulary with every kind of field, and system texts."""

from erp_core import hookimpl
from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="historian", version="1.0", title="Historian", description="History vocabulary")

RESOLVED: list[tuple[str, list[str]]] = []  # (object_type, ids) per resolve call, for query-count tests

COLOURS = {"dark_red": "Dark red", "sky_blue": "Sky blue"}


def _things(ids):
    RESOLVED.append(("thing", list(ids)))
    return {i: (f"TH-{int(i):04d}", f"/things/{i}") for i in ids if i.isdigit()}


@hookimpl
def erp_audit_vocabulary():
    return [AuditVocabulary(
        "thing", "Thing",
        actions={"created": "Thing made", "painted": "Painted", "webhook_secret_rotated": "New secret"},
        fields={"price": HistoryField("Price", "money", currency_field="currency"),
                "currency": HistoryField("Currency", hidden=True),
                "due": HistoryField("Due date", "date"),
                "seen_at": HistoryField("Seen", "datetime"),
                "parent": HistoryField("Parent", "reference", ref="thing"),
                "colour": HistoryField("Colour", "code", choices=COLOURS),
                "fragile": HistoryField("Fragile", "boolean"),
                "tags": HistoryField("Tags", "list"),
                "count": HistoryField("Count", "number"),
                "size": HistoryField("Size", "custom", format=lambda v, values: f"{v} cm"),
                "name": "Name"},
        resolve=_things)]


@hookimpl
def erp_system_texts():
    return {"historian.painted": "Painted %(colour)s on %(day)s.", "historian.colour.red": "red"}
