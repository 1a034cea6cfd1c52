"""Authentication of Cloud Scheduler calls to the scheduled jobs (cleanup_sessions, backup_export).

The scheduler job sends ``Authorization: Bearer <Google-signed OIDC ID token>`` of its service account, with the
function's URL as audience. We verify the signature and expiry against Google's certificates
(``google.oauth2.id_token.verify_oauth2_token``), the audience (``SCHEDULER_AUDIENCE``), and that the token names a
verified email listed in ``SCHEDULER_SERVICE_ACCOUNTS``. (Deployments also keep the functions private, so Cloud Run
IAM checks the same token first; this check keeps them safe if that is ever loosened.)

Local stack and tests: ``SCHEDULER_AUTH_BYPASS=true`` accepts calls without a token, but only when
``ENVIRONMENT`` is not ``production`` (configuration refuses the flag in production, and this module re-checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.foundation.config import Settings
from common.foundation.log import get_logger
from common.foundation.oidc import TokenVerifier, google_oidc_verifier, verify_service_caller

__all__ = ["SchedulerCaller", "TokenVerifier", "google_oidc_verifier", "verify_scheduler"]

logger = get_logger(__name__)


@dataclass(frozen=True)
class SchedulerCaller:
    email: str
    bypassed: bool = False


def verify_scheduler(
    authorization: str | None, settings: Settings, verifier: TokenVerifier = google_oidc_verifier
) -> SchedulerCaller:
    """The calling service account, or ``Unauthenticated`` / ``PermissionDenied`` (the checks of
    ``common.foundation.oidc``, against ``SCHEDULER_AUDIENCE`` and ``SCHEDULER_SERVICE_ACCOUNTS``)."""
    if settings.scheduler_auth_bypass and not settings.is_production:
        logger.warning("scheduler authentication bypassed (SCHEDULER_AUTH_BYPASS outside production)")
        return SchedulerCaller(email="local-bypass", bypassed=True)
    email = verify_service_caller(
        authorization,
        audience=settings.scheduler_audience,
        allowed_emails=settings.scheduler_service_accounts or (),
        who="Cloud Scheduler (SCHEDULER_AUDIENCE, SCHEDULER_SERVICE_ACCOUNTS)",
        verifier=verifier,
    )
    return SchedulerCaller(email=email)
