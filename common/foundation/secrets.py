"""API keys from Secret Manager, resolved on first use and cached per instance.

A key can come from two places:

- a plain environment value (``GOOGLE_MAPS_API_KEY``, ``GEMINI_API_KEY``): what local development uses, and what a
  deployment gets when it mounts the secret with ``gcloud functions deploy --set-secrets`` (``scripts/deploy`` does);
- a Secret Manager resource name (``GOOGLE_MAPS_API_KEY_SECRET``, ``GEMINI_API_KEY_SECRET``:
  ``projects/p/secrets/s/versions/latest``, or ``projects/p/secrets/s`` meaning its latest version), read with
  ``SecretManagerServiceClient.access_secret_version`` the first time the key is needed.

When both are set, the plain value wins outside production (local work never calls Secret Manager) and the resource
name wins in production (a stale plain value left in the environment cannot shadow the managed secret).

Errors: a missing secret or version, a disabled or destroyed version, or a refused access is a ``ConfigError``
naming the secret and its variable; a transient failure is ``SecretUnavailable`` (retryable) and is not cached, so
the next call tries again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.foundation.clients import Lazy
from common.foundation.errors import ConfigError, RetryableError

if TYPE_CHECKING:
    from google.cloud import secretmanager
    from pydantic import SecretStr

    from common.foundation.config import Settings

_VERSION_NAME = re.compile(r"^projects/[^/]+/secrets/[^/]+/versions/[^/]+$")
_SECRET_NAME = re.compile(r"^projects/[^/]+/secrets/[^/]+$")
ACCESS_TIMEOUT_SECONDS = 10.0


class SecretUnavailable(RetryableError):
    """Secret Manager did not answer (or answered with a corrupted payload); trying again later may succeed."""

    code = "secret_unavailable"
    default_message = "Secret Manager is unavailable; try again later"


@dataclass(frozen=True)
class SecretSpec:
    """Where one key comes from: its plain variable, its resource-name variable, and their values."""

    plain_variable: str
    secret_variable: str
    plain_value: SecretStr | None
    secret_name: str | None


def version_name(resource: str, variable: str) -> str:
    """The full version resource name; ``projects/p/secrets/s`` means its latest version."""
    resource = resource.strip()
    if _VERSION_NAME.match(resource):
        return resource
    if _SECRET_NAME.match(resource):
        return f"{resource}/versions/latest"
    raise ConfigError(
        f"{variable} must be a Secret Manager resource name like projects/PROJECT/secrets/NAME/versions/latest",
        details=[f"got {resource!r}"],
    )


class SecretResolver:
    """Resolves secrets with one Secret Manager client, caching each value for the life of the instance.

    Thread-safe: concurrent first uses of the same secret make one call; failures are not cached.
    """

    def __init__(
        self,
        client_factory: Callable[[], secretmanager.SecretManagerServiceClient],
        *,
        deadline_seconds: float = ACCESS_TIMEOUT_SECONDS,
    ) -> None:
        self._client: Lazy[secretmanager.SecretManagerServiceClient] = Lazy(client_factory)
        self._deadline_seconds = deadline_seconds
        self._values: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def resolve(self, spec: SecretSpec, *, production: bool) -> str | None:
        """The key for ``spec`` following the precedence above, or ``None`` when neither source is configured."""
        plain = spec.plain_value.get_secret_value() if spec.plain_value is not None else None
        if plain and (not production or not spec.secret_name):
            return plain
        if spec.secret_name:
            return self.access(version_name(spec.secret_name, spec.secret_variable), spec.secret_variable)
        return None

    def access(self, name: str, variable: str) -> str:
        """The payload of version ``name`` as text (cached)."""
        cached = self._values.get(name)
        if cached is not None:
            return cached
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            cached = self._values.get(name)
            if cached is None:
                cached = self._fetch(name, variable)
                self._values[name] = cached
            return cached

    def clear(self) -> None:
        with self._guard:
            self._values.clear()

    def _fetch(self, name: str, variable: str) -> str:
        from google.api_core import exceptions
        from google.api_core.retry import Retry, if_exception_type

        transient = if_exception_type(
            exceptions.ServiceUnavailable, exceptions.TooManyRequests, exceptions.InternalServerError
        )
        retry = Retry(predicate=transient, initial=0.1, maximum=2.0, multiplier=2.0, timeout=self._deadline_seconds)
        try:
            response = self._client.get().access_secret_version(
                request={"name": name}, retry=retry, timeout=self._deadline_seconds
            )
        except exceptions.NotFound:
            raise ConfigError(f"secret {name} ({variable}) does not exist") from None
        except exceptions.FailedPrecondition as exc:
            raise ConfigError(
                f"secret {name} ({variable}) cannot be read: the version is disabled or destroyed",
                details=[_message_of(exc)],
            ) from None
        except (exceptions.PermissionDenied, exceptions.Unauthenticated):
            raise ConfigError(
                f"access to secret {name} ({variable}) was refused: grant the function's service account "
                "roles/secretmanager.secretAccessor on it"
            ) from None
        except exceptions.InvalidArgument as exc:
            raise ConfigError(f"secret name {name} ({variable}) is not valid", details=[_message_of(exc)]) from None
        except (
            exceptions.ServiceUnavailable,
            exceptions.DeadlineExceeded,
            exceptions.InternalServerError,
            exceptions.TooManyRequests,
            exceptions.RetryError,
        ) as exc:
            raise SecretUnavailable(
                f"Secret Manager did not answer for {variable}", details=[_message_of(exc)]
            ) from None
        payload = response.payload
        data = bytes(payload.data)
        if payload.data_crc32c:
            import google_crc32c

            if google_crc32c.value(data) != payload.data_crc32c:
                raise SecretUnavailable(f"the payload of {variable} arrived corrupted (CRC32C mismatch)")
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(f"secret {name} ({variable}) is not UTF-8 text") from None
        if not text:
            raise ConfigError(f"secret {name} ({variable}) is empty")
        return text


def _message_of(exc: Any) -> str:
    return str(getattr(exc, "message", None) or exc)[:300]


def _build_client() -> secretmanager.SecretManagerServiceClient:
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient()


resolver: Lazy[SecretResolver] = Lazy(lambda: SecretResolver(_build_client))
"""The process's resolver (one client, one cache per instance)."""


def maps_spec(settings: Settings) -> SecretSpec:
    return SecretSpec(
        "GOOGLE_MAPS_API_KEY",
        "GOOGLE_MAPS_API_KEY_SECRET",
        settings.google_maps_api_key,
        settings.google_maps_api_key_secret,
    )


def gemini_spec(settings: Settings) -> SecretSpec:
    return SecretSpec(
        "GEMINI_API_KEY", "GEMINI_API_KEY_SECRET", settings.gemini_api_key, settings.gemini_api_key_secret
    )


def maps_api_key(settings: Settings, secrets: SecretResolver | None = None) -> str | None:
    """The Google Maps Platform key, or ``None`` (then real Google is reached with Application Default Credentials)."""
    return (secrets or resolver.get()).resolve(maps_spec(settings), production=settings.is_production)


def gemini_api_key(settings: Settings | None = None, secrets: SecretResolver | None = None) -> str | None:
    """The Gemini API key, or ``None``. Pass as ``common.domain.ai.build_planner(settings, api_key=gemini_api_key)``."""
    from common.foundation.config import get_settings

    settings = settings or get_settings()
    return (secrets or resolver.get()).resolve(gemini_spec(settings), production=settings.is_production)
