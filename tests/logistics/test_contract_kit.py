"""The carrier contract kit cannot pass without testing: it signs every webhook case with the
adapter's own ``sign_test_webhook``, whatever the signature scheme, and fails loudly when it cannot."""

import hashlib
import hmac
import json
import warnings
from datetime import datetime

import pytest

from plugins.logistics import adapters as a
from plugins.logistics.testing import CarrierAdapterContract

UNREADABLE = [b"", b"not json", b'{"events": 5}', b"\xff\xfe", b"[]"]


class StripeStyleAdapter(a.CarrierAdapter):
    """Signs like Stripe (``X-Sig: t=<time>,v1=<hex of "t.body">``), not ``sha256=<hex>``."""

    key = "stripe_style"
    title = "Stripe-style carrier"
    supports = frozenset({a.WEBHOOK})
    example_tracking_number = "SS-123456"

    def _mac(self, stamp: str, body: bytes) -> str:
        return hmac.new(self.config.webhook_secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()

    def sign_test_webhook(self, body: bytes) -> dict[str, str]:
        return {"X-Sig": f"t=1767225600,v1={self._mac('1767225600', body)}"}

    def build_test_webhook(self, events):
        body = json.dumps({"events": [{"n": e.tracking_number, "s": e.status, "t": e.occurred_at.isoformat(),
                                       "d": e.description, "id": e.event_id, "x": e.exception_kind}
                                      for e in events]}).encode()
        return self.sign_test_webhook(body), body

    def _verify(self, headers, body):
        parts = dict(p.split("=", 1) for p in str(headers.get("X-Sig", "")).split(",") if "=" in p)
        if not self.config.webhook_secret or not hmac.compare_digest(self._mac(parts.get("t", ""), body),
                                                                     parts.get("v1", "")):
            raise a.WebhookRejected("bad X-Sig")

    def parse_webhook(self, headers, body):
        self._verify(headers, body)
        try:
            items = json.loads(body.decode())["events"]
            if not isinstance(items, list):
                raise ValueError("events is not a list")
            return [a.TrackingEvent(tracking_number=i["n"], occurred_at=datetime.fromisoformat(i["t"]), status=i["s"],
                                    description=i["d"], event_id=i["id"], exception_kind=i["x"]) for i in items]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise a.WebhookMalformed(str(exc)) from None


class BrokenParsing(StripeStyleAdapter):
    """Body parsing that swallows unreadable bodies instead of refusing them."""

    def parse_webhook(self, headers, body):
        try:
            return super().parse_webhook(headers, body)
        except a.WebhookMalformed:
            return []


class BrokenParsingWithoutTestSigning(BrokenParsing):
    sign_test_webhook = a.CarrierAdapter.sign_test_webhook

    def build_test_webhook(self, events):  # signs by itself, as adapters of the previous release did
        body = json.dumps({"events": []}).encode()
        return {"X-Sig": f"t=1,v1={self._mac('1', body)}"}, body


class WrongTestSigning(StripeStyleAdapter):
    def sign_test_webhook(self, body):
        return {"X-Sig": "sha256=" + a.sign_hmac_sha256(self.config.webhook_secret, body)}


def _kit(factory, **attributes):
    return type("Kit", (CarrierAdapterContract,), {"adapter_factory": factory, **attributes})()


class TestStripeStyleAdapter(CarrierAdapterContract):
    """A correct adapter with another signature scheme passes the whole kit."""

    adapter_factory = StripeStyleAdapter


@pytest.mark.parametrize("junk", UNREADABLE)
def test_broken_body_parsing_fails_the_kit_whatever_the_signature_scheme(junk):
    kit = _kit(BrokenParsing)
    with pytest.raises(pytest.fail.Exception, match="accepted the unreadable body"):
        kit.test_parse_webhook_refuses_a_signed_but_unreadable_body(junk)
    _kit(StripeStyleAdapter).test_parse_webhook_refuses_a_signed_but_unreadable_body(junk)  # the sound one passes


@pytest.mark.parametrize("case", ["test_parse_webhook_refuses_a_signed_but_unreadable_body",
                                  "test_sign_test_webhook_signs_a_push_the_adapter_accepts"])
def test_an_adapter_reading_webhooks_without_test_signing_fails_naming_the_method(case):
    kit = _kit(BrokenParsingWithoutTestSigning)
    arguments = (b"not json",) if "unreadable" in case else ()
    with pytest.raises(pytest.fail.Exception, match=r"does not implement sign_test_webhook\(self, body: bytes\)"):
        getattr(kit, case)(*arguments)


def test_test_signing_that_its_own_verification_rejects_fails_the_kit():
    kit = _kit(WrongTestSigning)
    with pytest.raises(pytest.fail.Exception, match="rejected the signature of a push signed by its own"):
        kit.test_parse_webhook_refuses_a_signed_but_unreadable_body(b"not json")
    with pytest.raises(pytest.fail.Exception, match="rejected a push signed by its own sign_test_webhook"):
        kit.test_sign_test_webhook_signs_a_push_the_adapter_accepts()


def test_the_old_resign_hook_still_works_for_one_release_with_a_warning():
    calls = []

    def _resign(self, adapter, headers, body):
        calls.append(body)
        return adapter.sign_test_webhook(body)

    kit = _kit(BrokenParsing, _resign=_resign)
    with pytest.warns(DeprecationWarning, match="_resign is deprecated"):
        with pytest.raises(pytest.fail.Exception, match="accepted the unreadable body"):
            kit.test_parse_webhook_refuses_a_signed_but_unreadable_body(b"not json")
    assert calls == [b"not json"]


def test_the_default_kit_gives_no_deprecation_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        _kit(StripeStyleAdapter).test_parse_webhook_refuses_a_signed_but_unreadable_body(b"not json")


def test_sign_test_webhook_is_part_of_the_base_class_and_says_it_is_missing():
    adapter = a.CarrierAdapter(a.CarrierConfig("x", "X", {}, webhook_secret="s"))
    with pytest.raises(NotImplementedError, match="sign_test_webhook"):
        adapter.sign_test_webhook(b"{}")
