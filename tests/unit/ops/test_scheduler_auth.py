"""Scheduler calls: Google-signed OIDC tokens of allowed service accounts only; the local bypass never in production.

Tokens here are real RS256 JWTs signed with a key made for the test; the verifier checks them with google-auth
against that key's certificate, as ``verify_oauth2_token`` does against Google's.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from common.foundation.config import Settings, load_settings
from common.foundation.errors import ConfigError, PermissionDenied, Unauthenticated
from common.services.ops.scheduler_auth import verify_scheduler

AUDIENCE = "https://us-central1-p.cloudfunctions.net/cleanup_sessions"
SCHEDULER = "scheduler-invoker@p.iam.gserviceaccount.com"


class KeyPair:
    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        self.pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.certificate = certificate.public_bytes(serialization.Encoding.PEM).decode()

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": AUDIENCE,
            "sub": "1234567890",
            "email": SCHEDULER,
            "email_verified": True,
            "iat": now,
            "exp": now + 600,
            **overrides,
        }
        signer = crypt.RSASigner.from_string(self.pem, key_id="k1")  # type: ignore[no-untyped-call]
        encoded: bytes = jwt.encode(signer, claims)  # type: ignore[no-untyped-call]
        return encoded.decode()

    def verifier(self, token: str, audience: str) -> Mapping[str, Any]:
        claims: Mapping[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
            token, certs={"k1": self.certificate}, audience=audience
        )
        return claims


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return KeyPair()


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"scheduler_audience": AUDIENCE, "scheduler_service_accounts": [SCHEDULER], **overrides}
    return load_settings(**values)


def test_a_token_of_an_allowed_service_account_passes(keys: KeyPair) -> None:
    caller = verify_scheduler(f"Bearer {keys.token()}", _settings(), keys.verifier)
    assert caller.email == SCHEDULER
    assert not caller.bypassed


def test_a_token_for_another_audience_is_refused(keys: KeyPair) -> None:
    token = keys.token(aud="https://us-central1-p.cloudfunctions.net/other")
    with pytest.raises(Unauthenticated):
        verify_scheduler(f"Bearer {token}", _settings(), keys.verifier)


def test_an_expired_token_is_refused(keys: KeyPair) -> None:
    token = keys.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    with pytest.raises(Unauthenticated):
        verify_scheduler(f"Bearer {token}", _settings(), keys.verifier)


def test_a_token_signed_by_another_key_is_refused(keys: KeyPair) -> None:
    other = KeyPair()
    with pytest.raises(Unauthenticated):
        verify_scheduler(f"Bearer {other.token()}", _settings(), keys.verifier)


def test_another_service_account_is_denied(keys: KeyPair) -> None:
    token = keys.token(email="intruder@p.iam.gserviceaccount.com")
    with pytest.raises(PermissionDenied):
        verify_scheduler(f"Bearer {token}", _settings(), keys.verifier)


def test_an_unverified_email_or_foreign_issuer_is_refused(keys: KeyPair) -> None:
    with pytest.raises(Unauthenticated):
        verify_scheduler(f"Bearer {keys.token(email_verified=False)}", _settings(), keys.verifier)
    with pytest.raises(Unauthenticated):
        verify_scheduler(f"Bearer {keys.token(iss='https://evil.example')}", _settings(), keys.verifier)


def test_a_missing_token_is_refused(keys: KeyPair) -> None:
    with pytest.raises(Unauthenticated):
        verify_scheduler(None, _settings(), keys.verifier)


def test_the_bypass_works_outside_production_only(keys: KeyPair) -> None:
    caller = verify_scheduler(None, _settings(scheduler_auth_bypass=True), keys.verifier)
    assert caller.bypassed
    with pytest.raises(ConfigError, match="SCHEDULER_AUTH_BYPASS"):
        load_settings(environment="production", google_cloud_project="real-project", scheduler_auth_bypass=True)


def test_without_audience_or_accounts_nothing_is_accepted(keys: KeyPair) -> None:
    with pytest.raises(ConfigError):
        verify_scheduler(f"Bearer {keys.token()}", load_settings(), keys.verifier)
