"""Fixtures for the Flic 2 tests: a factory key, a simulated button, the radio between."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.flic2.sim_button import SimButton
from tests.flic2.sim_transport import SimRadio

ADDRESS = "80:e4:da:71:23:45"


@pytest.fixture
def factory_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verify_key(factory_key: Ed25519PrivateKey) -> bytes:
    """The simulated factory's public key, injected where production uses the vendor's."""
    return factory_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
def button(factory_key: Ed25519PrivateKey) -> SimButton:
    return SimButton(ADDRESS, factory_key, name="front-desk")


@pytest.fixture
def radio(button: SimButton) -> SimRadio:
    return SimRadio(button)
