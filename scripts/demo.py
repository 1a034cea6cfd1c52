"""`make demo`: show the local stack answering through a deployed-shape function."""

from __future__ import annotations

import json
import sys
import urllib.request

from scripts.envfile import read_env_file


def main() -> int:
    env = read_env_file()
    url = env["HEALTH_URL"]
    print(f"GET {url}  (functions-framework serving `health` from functions/main.py)")
    with urllib.request.urlopen(url, timeout=30) as response:
        report = json.load(response)
    print(json.dumps(report, indent=2))
    print(f"\nFirestore stand-in answered in {report['firestore']['latency_ms']} ms; status: {report['status']}")
    return 0 if report["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
