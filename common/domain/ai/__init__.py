"""The planner layer: a model (or the offline ranker) proposes places for a trip; it never schedules them.

Start at ``build_planner``. The caller provides a ``ToolBox`` over the Maps layer and resolves every proposed place
to a real place id (or drops it) before scheduling.
"""

from common.domain.ai.errors import ModelBlocked, ModelOutputError, ModelRequestRejected, ModelUnavailable
from common.domain.ai.factory import FallbackPlanner, build_planner, resolve_provider
from common.domain.ai.gemini import GeminiPlanner
from common.domain.ai.models import DayOutlook, ModelUsage, Planner, Proposal, ProposedPlace, ToolBox, TripBrief
from common.domain.ai.offline import OfflinePlanner

__all__ = [
    "DayOutlook",
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
