"""Run the Maps stand-in: ``python -m scripts.maps_standin --host 127.0.0.1 --port 8091 [--catalogue DIR] ...``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from scripts.maps_standin.loader import DEFAULT_CATALOGUE_DIR, load_catalogue
from scripts.maps_standin.server import Faults, StandinServer, StandinState


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.maps_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE_DIR, help="directory of <city>.json")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("MAPS_STANDIN_API_KEY") or None,
        help="accept only this key (default: any non-empty key)",
    )
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of API calls that fail (0..1)")
    parser.add_argument("--error-code", type=int, default=503, help="HTTP code of injected failures")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every API call")
    parser.add_argument("--fail-next", type=int, default=0, help="fail the first N API calls")
    parser.add_argument("--seed", type=int, default=0, help="seed of the failure draw")
    parser.add_argument(
        "--now",
        default=os.environ.get("MAPS_STANDIN_NOW") or None,
        help="pin the clock for openNow and UTC offsets (ISO 8601 with offset)",
    )
    parser.add_argument(
        "--road-variation",
        action="store_true",
        default=os.environ.get("MAPS_STANDIN_ROAD_VARIATION", "") in {"1", "true"},
        help="real-looking travel times: a per-pair factor and transit rush hours (MAPS_STANDIN_ROAD_VARIATION=1)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    catalogue = load_catalogue(args.catalogue)
    for problem in catalogue.problems:
        print(f"maps stand-in: skipped: {problem}", file=sys.stderr)
    faults = Faults(
        error_rate=args.error_rate,
        error_code=args.error_code,
        latency_ms=args.latency_ms,
        fail_next=args.fail_next,
        seed=args.seed,
    )
    now = datetime.fromisoformat(args.now).astimezone(UTC) if args.now else None
    state = StandinState(catalogue, faults, api_key=args.api_key, now=now, road_variation=args.road_variation)
    server = StandinServer((args.host, args.port), state, verbose=args.verbose)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(
        f"maps stand-in listening on {server.url} ({len(catalogue.cities)} cities, {len(catalogue.places)} places)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
