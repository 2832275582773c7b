"""Fingerprints of a few AI-against-AI games: a speed-up that changes no behaviour leaves every line unchanged.

Run it before and after an optimisation (`python benchmarks/fingerprint.py`) and compare. Each line hashes every
order given, every event (kind, side, hex, text and data), each turn's metrics and the control of every hex of one
game, so a difference anywhere shows.
"""

from __future__ import annotations

import hashlib
import sys
import time

GAMES = (("pokrovsk-axis-2024", 1, 40), ("pokrovsk-axis-2024", 7, 25), ("pokrovsk-2025", 3, 12),
         ("fortress-belt-2026", 2, 20), ("tutorial", 5, 10))


def fingerprint(scenario: str, seed: int, turns: int) -> tuple[str, int]:
    """Hash of the orders and events of the first ``turns`` turns of one seeded game, and the turns played."""
    from sim.ai import play_side
    from sim.model import WargameModel

    m = WargameModel(scenario, seed=seed)
    digest = hashlib.sha256()
    while m.turn < turns and not m.over:
        for side in ("ru", "ua"):
            play_side(m, side)
        for order in (o for side in ("ru", "ua") for o in m.pending[side]):
            digest.update(repr(order.to_dict()).encode())
        for e in m.end_turn():
            digest.update(f"{e.kind}|{e.side}|{e.hex}|{e.template}|{sorted(e.data.items())!r}".encode())
        digest.update(repr(sorted(m.metrics[-1].items())).encode())
        digest.update(m.control.tobytes())
    return digest.hexdigest()[:16], m.turn


def main() -> int:
    start = time.perf_counter()
    for scenario, seed, turns in GAMES:
        value, played = fingerprint(scenario, seed, turns)
        print(f"{scenario} seed {seed}, {played} turns: {value}")
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
