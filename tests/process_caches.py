"""What the backend keeps per process (per warm instance), and how tests forget it.

``common`` reads its settings once per process (``config.get_settings``) and builds its clients and service
dependencies once, in module-level ``Lazy`` objects (``clients.firestore_client``, the services' ``default_deps``, the
Maps service, the Firebase app, the secret resolver, ...). Tests that change the environment, and functions served in
this process by ``tests.integration.in_process``, must forget all of them, not only the ones known today: every
``Lazy`` found at module level in a loaded ``common`` module is reset.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator

from common.foundation.clients import Lazy
from common.foundation.config import get_settings

_resets = itertools.count(1)
_generation = 0


def process_lazies() -> Iterator[Lazy[object]]:
    """Every module-level ``Lazy`` of the loaded ``common`` modules (each once)."""
    seen: set[int] = set()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "common" or name.startswith("common.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Lazy) and id(value) not in seen:
                seen.add(id(value))
                yield value


def reset_process_caches() -> None:
    """Forget the cached settings and every process-wide client and dependency (they are rebuilt on next use)."""
    global _generation
    get_settings.cache_clear()
    for lazy in process_lazies():
        lazy.reset()
    _generation = next(_resets)


def generation() -> int:
    """How many resets there have been: what was built before a reset is not what is cached now."""
    return _generation
