"""The worker's readiness (streams/observability/health.py) from its Faust app and its egress service.

partitions_assigned, not_recovering (no rebalance, table recovery done), edfi_token (a token obtainable,
checked at most every 30 s while it succeeds) and edfi_authorized (the egress is not paused on refused
credentials or writes, streams/edfi/auth_pause.py).
"""

from __future__ import annotations

from typing import Any

from agents.egress_service import EgressService
from streams.observability.health import (
    EDFI_AUTHORIZED,
    EDFI_TOKEN,
    NOT_RECOVERING,
    PARTITIONS_ASSIGNED,
    Readiness,
    cached,
)

TOKEN_CHECK_TTL_SECONDS = 30.0


def worker_readiness(app: Any, egress: EgressService) -> Readiness:
    def assigned() -> bool:
        return bool(app.consumer.assignment()) if app.consumer else False

    def not_recovering() -> bool:
        recovery = getattr(app.tables, "recovery", None)
        recovering = bool(getattr(app, "rebalancing", False)) or (
            recovery is not None and not recovery.completed.is_set())
        return not recovering

    readiness = Readiness()
    readiness.set_check(PARTITIONS_ASSIGNED, assigned)
    readiness.set_check(NOT_RECOVERING, not_recovering)
    readiness.set_check(EDFI_TOKEN, cached(egress.check_token, TOKEN_CHECK_TTL_SECONDS))
    readiness.set_check(EDFI_AUTHORIZED, egress.authorized)
    return readiness
