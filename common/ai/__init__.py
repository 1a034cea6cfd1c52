"""The planner layer: a model (or the offline ranker) proposes places for a trip; it never schedules them.

Start at ``build_planner``. The caller provides a ``ToolBox`` over the Maps layer and resolves every proposed place
to a real place id (or drops it) before scheduling.
"""

from common.ai.errors import ModelBlocked, ModelOutputError, ModelRequestRejected, ModelUnavailable
from common.ai.factory import FallbackPlanner, build_planner, resolve_provider
from common.ai.gemini import GeminiPlanner
from common.ai.models import ModelUsage, Planner, Proposal, ProposedPlace, ToolBox, TripBrief
from common.ai.offline import OfflinePlanner

__all__ = [
    "FallbackPlanner",
    "GeminiPlanner",
    "ModelBlocked",
    "ModelOutputError",
    "ModelRequestRejected",
    "ModelUnavailable",
    "ModelUsage",
    "OfflinePlanner",
    "Planner",
    "Proposal",
    "ProposedPlace",
    "ToolBox",
    "TripBrief",
    "build_planner",
    "resolve_provider",
]
