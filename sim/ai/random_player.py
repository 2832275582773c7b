"""A player who gives random orders: the baseline the AI must beat clearly, and a fuzzer for the rules."""

from __future__ import annotations

import numpy as np

from sim.orders import Assault, DigIn, Infiltrate, Move, Order, Reserve, Strike, Withdraw


def random_orders(m, side: str, rng: np.random.Generator, share: float = 0.7) -> list[Order]:
    """Random orders for about ``share`` of the side's units: a random kind, a random hex within a few hexes."""
    out: list[Order] = []
    for u in sorted(m.side_units(side), key=lambda u: u.uid):
        if rng.random() > share:
            continue
        near = np.flatnonzero(m.map.distances_from(u.hex) <= 3)
        target = int(near[rng.integers(near.size)])
        kind = int(rng.integers(7))
        if kind == 0:
            out.append(Move(u.uid, target))
        elif kind == 1:
            out.append(Infiltrate(u.uid, target))
        elif kind == 2:
            nb = [int(h) for h in m.map.nbr[u.hex] if h >= 0]
            out.append(Assault(u.uid, nb[int(rng.integers(len(nb)))]))
        elif kind == 3:
            out.append(DigIn(u.uid))
        elif kind == 4:
            out.append(Withdraw(u.uid))
        elif kind == 5:
            out.append(Reserve(u.uid))
        else:
            out.append(Strike(u.uid, target))
    return out


def random_commander(side: str, seed: int):
    """A commander for `WargameModel.run`: random orders from its own seeded stream (the game's stays untouched)."""
    rng = np.random.default_rng(seed)

    def command(m):
        for order in random_orders(m, side, rng):
            m.try_issue(order)
        return []

    return command
