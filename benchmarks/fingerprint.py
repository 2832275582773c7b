"""Fingerprints of a few AI-against-AI games: a speed-up that changes no behaviour leaves every line unchanged.

Run it before and after an optimisation (`python benchmarks/fingerprint.py`) and compare. Each line hashes every
order given, every event (kind, side, hex, text and data), each turn's metrics and the control of every hex of one
game, so a difference anywhere shows. Numbers are hashed by value: a numpy float and a Python float that are equal
hash alike, so an engine may change which of the two it carries without changing its fingerprint.
"""

from __future__ import annotations

import hashlib
import sys
import time

GAMES = (("pokrovsk-axis-2024", 1, 40), ("pokrovsk-axis-2024", 7, 25), ("pokrovsk-2025", 3, 12),
         ("fortress-belt-2026", 2, 20), ("tutorial", 5, 10))


def _plain(value):
    """A numpy scalar as the Python number of the same value; anything else as it is."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value


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
            digest.update(repr({k: _plain(v) for k, v in order.to_dict().items()}).encode())
        for e in m.end_turn():
            data = sorted((k, _plain(v)) for k, v in e.data.items())
            digest.update(f"{e.kind}|{e.side}|{e.hex}|{e.template}|{data!r}".encode())
        digest.update(repr(sorted((k, _plain(v)) for k, v in m.metrics[-1].items())).encode())
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
