"""App Check: settings, the header's parsing, the error envelope and CORS, and firebase-admin's verification rules
as installed (7.7.0), exercised against a stand-in of the App Check API served over HTTP on 127.0.0.1 by this test
(tests/app_check_support.py): its JWKS holds the public half of a test RSA key that signs the tokens."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import flask
import pytest

from common.api.http import JsonResult, serve
from common.foundation import app_check as app_check_module
from common.foundation.app_check import APP_CHECK_HEADER, app_check_token, refusal_detail, verify_app_check
from common.foundation.config import Settings, load_settings
from common.foundation.errors import AppCheckFailed, ConfigError, Unauthenticated, UpstreamUnavailable
from tests.app_check_support import ISSUER_BASE, PROJECT_NUMBER, AppCheckStandin, app_check_standin, new_key
from tests.integration.support import free_port

PROJECT = "demo-app-check-unit"


@pytest.fixture(scope="module")
def standin() -> Iterator[AppCheckStandin]:
    with app_check_standin() as running:
        yield running


@pytest.fixture
def settings(standin: AppCheckStandin) -> Iterator[Settings]:
    standin.verify_status = None
    yield load_settings(app_check_enforce=True, app_check_api_endpoint=standin.url, google_cloud_project=PROJECT)
    standin.verify_status = None


# Settings


def test_app_check_is_off_locally_and_on_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().app_check_enforced is False
    assert load_settings(app_check_enforce=True).app_check_enforced is True
    assert load_settings().app_check_replay_protection is True
    _production(monkeypatch)
    assert load_settings().app_check_enforced is True
    monkeypatch.setenv("APP_CHECK_ENFORCE", "true")
    assert load_settings().app_check_enforced is True


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "acme-trips-prod")
    monkeypatch.setenv("ALLOWED_ORIGINS", '["https://trips.acme.example"]')


@pytest.mark.parametrize(
    ("variable", "value"),
    [("APP_CHECK_ENFORCE", "false"), ("APP_CHECK_ENFORCE", "0"), ("APP_CHECK_API_ENDPOINT", "http://127.0.0.1:9")],
)
def test_production_refuses_turning_app_check_off_or_pointing_it_at_a_stand_in(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    _production(monkeypatch)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_settings()


def test_the_endpoint_must_be_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_CHECK_API_ENDPOINT", "127.0.0.1:9000")
    with pytest.raises(ConfigError, match="APP_CHECK_API_ENDPOINT"):
        load_settings()


# The header


def test_the_header_holds_one_compact_token() -> None:
    assert app_check_token("  aaa.bbb.ccc ") == "aaa.bbb.ccc"
    for header in (None, "", "   "):
        with pytest.raises(AppCheckFailed) as missing:
            app_check_token(header)
        assert missing.value.details == ["the X-Firebase-AppCheck header is missing"]
    for header in ("Bearer aaa.bbb.ccc", "aaa.bbb", "a.b.c.d", "x" * 5000 + ".b.c"):
        with pytest.raises(AppCheckFailed, match="App Check"):
            app_check_token(header)


def test_a_refusal_is_a_401_envelope_that_says_app_check() -> None:
    error = AppCheckFailed(details=["the X-Firebase-AppCheck header is missing"])
    assert isinstance(error, Unauthenticated)
    assert (error.http_status, error.code) == (401, "app_check_failed")
    app = flask.Flask(__name__)

    def refuse(_: flask.Request) -> JsonResult:
        raise error

    with app.test_request_context("/", method="POST"):
        response = serve(flask.request, function="f", settings=load_settings(), handler=refuse, methods=["POST"])
    body = json.loads(response.get_data())["error"]
    assert response.status_code == 401
    assert body["code"] == "app_check_failed"
    assert "X-Firebase-AppCheck" in body["message"]
    assert body["details"] == ["the X-Firebase-AppCheck header is missing"]


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ("The provided App Check token has expired.", "the App Check token has expired"),
        ('The provided App Check token has an incorrect "aud" (audience) claim. Expected', "(audience)"),
        ('Token does not contain the correct "iss" (issuer).', "(issuer)"),
        ("The provided App Check token has an invalid signature.", "signature does not verify"),
        ("The provided App Check token has an incorrect alg header. Expected RS256 but got HS256.", "not valid"),
    ],
)
def test_firebase_admin_messages_become_short_safe_details(message: str, detail: str) -> None:
    assert detail in refusal_detail(message)


# CORS


def _preflight(settings: Settings) -> flask.Response:
    app = flask.Flask(__name__)
    headers = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-firebase-appcheck",
    }
    with app.test_request_context("/", method="OPTIONS", headers=headers):
        return serve(flask.request, function="f", settings=settings, handler=lambda _: JsonResult({}), methods=["POST"])


def test_a_preflight_allows_the_app_check_header_even_when_allowed_headers_omits_it() -> None:
    for settings in (load_settings(), load_settings(allowed_headers=["Content-Type", "If-Match"])):
        response = _preflight(settings)
        assert response.status_code == 204
        allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"x-firebase-appcheck", "authorization", "content-type"} <= allowed
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    doubled = _preflight(load_settings(allowed_headers=["x-firebase-appcheck"])).headers["Access-Control-Allow-Headers"]
    assert doubled.lower().count("x-firebase-appcheck") == 1


# firebase-admin's verification, through verify_app_check


def test_nothing_is_checked_when_not_enforced() -> None:
    assert verify_app_check(None, load_settings()) is None
    assert verify_app_check("garbage", load_settings(app_check_enforce=False), consume=True) is None


def test_the_installed_firebase_admin_is_what_this_relies_on() -> None:
    from firebase_admin import app_check

    assert "consume" in inspect.signature(app_check.verify_token).parameters
    service = app_check._AppCheckService
    assert service._JWKS_URL == "https://firebaseappcheck.googleapis.com/v1/jwks"
    assert service._VERIFY_URL_FORMAT == (
        "https://firebaseappcheck.googleapis.com/v1beta/projects/{project_id}:verifyAppCheckToken"
    )
    assert app_check._APP_CHECK_ATTRIBUTE == "_app_check"
    assert "self._JWKS_URL" in inspect.getsource(service.__init__)
    assert "self._VERIFY_URL_FORMAT" in inspect.getsource(service._verify_replay_protection)


def test_without_an_endpoint_the_stock_service_is_left_to_talk_to_google() -> None:
    app = app_check_module.build_app(load_settings(google_cloud_project="demo-app-check-stock"))
    assert "_app_check" not in app._services  # built on first verification, by firebase-admin itself


def test_with_an_endpoint_the_app_verifies_against_it(settings: Settings, standin: AppCheckStandin) -> None:
    from firebase_admin import app_check

    service = app_check._get_app_check_service(app_check_module.app_for(settings))
    jwks_url = f"{standin.url}/v1/jwks"
    assert jwks_url == service._JWKS_URL == service._jwks_client.uri
    assert service._VERIFY_URL_FORMAT.startswith(standin.url + "/v1beta/projects/")
    assert service._http_client.timeout == app_check_module.HTTP_TIMEOUT_SECONDS


def test_a_good_token_passes(settings: Settings, standin: AppCheckStandin) -> None:
    attestation = verify_app_check(standin.token(PROJECT), settings)
    assert attestation is not None
    assert attestation.app_id.startswith("1:123456789012:web:")
    assert attestation.consumed is False
    assert standin.jwks_fetches >= 1


@pytest.mark.parametrize(
    ("breakage", "detail"),
    [
        ({"ttl_s": 60, "issued_s_ago": 120}, "expired"),
        ({"audience": ["projects/someone-else", f"projects/{PROJECT_NUMBER}"]}, "(audience)"),
        ({"audience": [f"projects/{PROJECT_NUMBER}"]}, "(audience)"),  # the project number alone is not enough
        ({"audience": f"projects/{PROJECT}"}, "(audience)"),  # a string, not a list
        ({"issuer": "https://securetoken.google.com/" + PROJECT}, "(issuer)"),
        ({"key": "another"}, "signature does not verify"),
        ({"kid": "unknown-key"}, "signing key is unknown"),
        ({"header_type": "JOSE"}, "not valid"),
        ({"subject": 42}, "not valid"),
    ],
)
def test_firebase_admin_refuses(
    settings: Settings, standin: AppCheckStandin, breakage: dict[str, Any], detail: str
) -> None:
    if breakage.get("key") == "another":
        breakage = {"key": new_key()}
    with pytest.raises(AppCheckFailed) as refused:
        verify_app_check(standin.token(PROJECT, **breakage), settings)
    assert refused.value.http_status == 401
    assert detail in refused.value.details[0]


def test_firebase_admin_checks_the_project_id_in_aud_but_not_the_number_in_iss(
    settings: Settings, standin: AppCheckStandin
) -> None:
    """Pinned facts of the installed version: ``aud`` must list ``projects/<project id>`` (the project number beside
    it is not looked at) and ``iss`` need only start with the App Check issuer."""
    assert verify_app_check(standin.token(PROJECT, audience=[f"projects/{PROJECT}"]), settings)
    assert verify_app_check(standin.token(PROJECT, issuer=ISSUER_BASE + "999"), settings)


def test_a_limited_use_token_is_consumed_once(settings: Settings, standin: AppCheckStandin) -> None:
    token = standin.token(PROJECT)
    first = verify_app_check(token, settings, consume=True)
    assert first is not None
    assert first.consumed
    with pytest.raises(AppCheckFailed) as replayed:
        verify_app_check(token, settings, consume=True)
    assert replayed.value.details == ["the App Check token was already used: send a new limited-use token"]
    assert standin.consumed[token] == 2
    assert standin.verify_projects[-1] == PROJECT
    assert verify_app_check(token, settings), "functions without replay protection still accept it"


def test_replay_protection_can_be_turned_off(standin: AppCheckStandin) -> None:
    settings = load_settings(
        app_check_enforce=True,
        app_check_replay_protection=False,
        app_check_api_endpoint=standin.url,
        google_cloud_project=PROJECT,
    )
    token = standin.token(PROJECT)
    for _ in range(2):
        attestation = verify_app_check(token, settings, consume=True)
        assert attestation is not None
        assert not attestation.consumed
    assert token not in standin.consumed


@pytest.mark.parametrize(
    ("status", "error"), [(403, AppCheckFailed), (400, AppCheckFailed), (429, UpstreamUnavailable), (502, None)]
)
def test_the_consume_call_failing(
    settings: Settings, standin: AppCheckStandin, status: int, error: type[Exception] | None
) -> None:
    standin.verify_status = status
    with pytest.raises(error or UpstreamUnavailable):
        verify_app_check(standin.token(PROJECT), settings, consume=True)


def test_unreachable_signing_keys_are_a_503() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = load_settings(app_check_enforce=True, app_check_api_endpoint=endpoint, google_cloud_project=PROJECT)
    with app_check_standin() as other, pytest.raises(UpstreamUnavailable):
        verify_app_check(other.token(PROJECT), settings)


def test_the_header_name_is_the_one_the_client_sdks_send() -> None:
    assert APP_CHECK_HEADER.lower() == "x-firebase-appcheck"


def test_the_deployment_enforces_app_check_and_lets_plan_trip_consume_tokens() -> None:
    from tests.integration.support import ROOT

    description = json.loads((ROOT / "deploy" / "functions.json").read_text())
    assert description["common_env"]["ENVIRONMENT"] == "production", "App Check is on by default there"
    (plan_trip,) = (function for function in description["functions"] if function["name"] == "plan_trip")
    assert {"role": "roles/firebaseappcheck.tokenVerifier", "scope": "project"} in plan_trip["roles"]
    for function in description["functions"]:
        assert not {"APP_CHECK_ENFORCE", "APP_CHECK_API_ENDPOINT"} & set(function["env"]), function["name"]


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({}, "App Check is not enforced"),
        ({"APP_CHECK_ENFORCE": "false"}, "App Check is not enforced"),
        ({"APP_CHECK_ENFORCE": "true", "APP_CHECK_REPLAY_PROTECTION": "false"}, "replay protection is off"),
        ({"APP_CHECK_ENFORCE": "true"}, None),
    ],
)
def test_a_function_says_at_start_when_app_check_is_weakened(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], warning: str | None
) -> None:
    import logging

    import functions_framework

    from common.foundation.config import get_settings
    from tests.integration.support import ROOT

    monkeypatch.setenv("FUNCTION_TARGET", "health")  # functions-framework sets it; restored after the test
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    main_logger = logging.getLogger("main")  # functions-framework loads functions/main.py as the module "main"
    main_logger.addHandler(handler)
    try:
        functions_framework.create_app(target="health", source=str(ROOT / "functions" / "main.py"))  # type: ignore[no-untyped-call]
    finally:
        main_logger.removeHandler(handler)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING and "App Check" in r.getMessage()]
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert warning in warnings[0]
