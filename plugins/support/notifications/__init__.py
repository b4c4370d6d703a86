"""Customer notifications (客户通知): the customer hears by e-mail (and text message, when an SMS
adapter is chosen) that the order is confirmed, shipped, delivered, has a delivery problem, that a
return is approved or received and that a refund is paid; each kind written in the customer's
language, switchable in the settings, previewable by an admin, and logged on the order's page.

- :mod:`.kinds`: the kinds, channels, statuses and their labels;
- :mod:`.messages`: the facts of an order or a sample, and the message in one language;
- :mod:`.send`: ``notify`` and the event handlers support's hook implementations call;
- :mod:`.sms`: the adapter interface, the built-in recording adapter and the chosen one;
- :mod:`.views`: the admin's preview page.
"""

from .kinds import KIND_LABELS, KINDS
from .messages import Message, order_facts, render, sample_facts
from .send import (
    notify,
    order_status_changed,
    refund_recorded,
    return_status_changed,
    shipment_status_changed,
)
from .sms import RecordingAdapter, SmsAdapter, SmsResult

__all__ = [
    "KINDS", "KIND_LABELS", "Message", "RecordingAdapter", "SmsAdapter", "SmsResult", "notify", "order_facts",
    "order_status_changed", "refund_recorded", "render", "return_status_changed", "sample_facts",
    "shipment_status_changed",
]
