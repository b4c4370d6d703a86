"""Carriers' secret credentials are stored sealed; the adapter and the form get what they need."""

from __future__ import annotations

from erp_core import secretbox
from erp_core.extensions import db
from plugins.logistics import services
from plugins.logistics.models import Carrier

from .conftest import make_carriers


def test_secret_credentials_are_sealed_at_rest_and_plain_for_the_adapter(app):
    with app.app_context():
        demo, manual = make_carriers()
        stored = db.session.get(Carrier, demo.id).credentials
        assert stored["account"] == "DEMO-1"  # not secret: kept as typed
        assert secretbox.is_sealed(stored["api_key"]) and "test-api-key" not in str(stored)
        assert services.adapter_for(demo).config.credentials["api_key"] == "test-api-key"
        assert services.stored_credentials(demo)["api_key"] == "test-api-key"

        services.update_carrier(demo, "Demo Express", {"account": "DEMO-2", "api_key": ""})  # blank keeps it
        db.session.commit()
        assert services.adapter_for(demo).config.credentials == {"account": "DEMO-2", "api_key": "test-api-key"}
        services.update_carrier(demo, "Demo Express", {"account": "DEMO-2", "api_key": "new-key"})
        db.session.commit()
        assert services.adapter_for(demo).config.credentials["api_key"] == "new-key"
        assert secretbox.is_sealed(db.session.get(Carrier, demo.id).credentials["api_key"])
