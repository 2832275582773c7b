"""Formed assaults (notes §4.6): combat power against combat power, a probabilistic gain of ground, and casualties
on both sides.

CP_att = sum N q sup coh/100 x (1 + blind_bonus x blind share)
CP_def = sum N q sup coh/100 x posture x terrain x fortification (if manned) x (1 + omega I_def V)
P(gain) = 1 / (1 + (R50 / R)^k) with R = CP_att / CP_def; losses N lambda0 days R^-a (attacker), R^b (defender).
`odds()` gives the same numbers without rolling dice, for the UI's preview and the AI.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.orders import Assault
from sim.rules.infiltration import manned, manned_at
from sim.units import SIDES, SUPPLY_STATES, Unit, other

if TYPE_CHECKING:
    from sim.model import WargameModel


def unit_power(m: WargameModel, u: Unit) -> float:
    sup = m.p.supply.combat_factor[SUPPLY_STATES.index(u.status.supply)]
    return u.personnel * u.quality * sup * u.status.cohesion / 100.0


def _unit_powers(m: WargameModel, units: list[Unit]) -> np.ndarray:
    """`unit_power` of each of ``units``, bit for bit (the same factors multiplied in the same order), without a
    call per unit."""
    sup = dict(zip(SUPPLY_STATES, m.p.supply.combat_factor, strict=True))
    return np.array([u.status.personnel * u.quality * sup[u.status.supply] * u.status.cohesion / 100.0 for u in units],
                    dtype=float)


def defenders(m: WargameModel, side: str, target: int, cache: dict | None = None) -> list[tuple[Unit, float]]:
    """Defending units and the share of each that fights for ``target`` (all of those in it, part of neighbours)."""
    spread = m.p.control.extra.garrison_spread / 6.0
    by_hex = _memo(cache, ("by_hex", side), lambda: _units_by_hex(m, side))
    out = [(u, 1.0) for u in by_hex.get(target, ()) if u.alive]
    if m.own_share_at(side, target) >= 0.5:
        out += [(u, spread) for h in m.map.nbr[target].tolist() if h >= 0 for u in by_hex.get(h, ()) if u.alive]
    return sorted(out, key=lambda t: t[0].uid)


def _units_by_hex(m: WargameModel, side: str) -> dict[int, list[Unit]]:
    """The side's living manoeuvre units by hex; `defenders` skips those that die later, so a grouping made at the
    start of the assault phase (where nobody moves) serves all of it."""
    out: dict[int, list[Unit]] = {}
    for u in m.side_units(side, "manoeuvre"):
        out.setdefault(u.hex, []).append(u)
    return out


def _memo(cache: dict | None, key, compute):
    """``compute()``, remembered in ``cache`` when a caller (the AI weighing many options) passes one."""
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def odds(m: WargameModel, order: Assault, cache: dict | None = None) -> dict:
    """Odds and expected results of an assault, with the factors behind them; rolls no dice.

    ``cache`` lets a caller that weighs many assaults on an unchanged state (the AI) share the per-side arrays
    and each target's defence, which is the same whoever attacks it.
    """
    p = m.p
    attackers, w_att, cp_att, dfn, ratio = _balance(m, order, cache)
    cp_def = dfn["cp_def"]
    p_gain = gain_chance(m, ratio)
    n_att = sum(u.personnel for u in attackers)
    n_def = dfn["n_def"]
    lam = p.assault.lambda0 * m.turn_days
    loss_att = min(n_att * p.assault.extra.max_casualty, n_att * lam * ratio ** (-p.assault.a))
    loss_def = min(n_def * p.assault.extra.max_casualty, n_def * lam * ratio ** p.assault.b)
    reasons = [f"attack power {cp_att:.0f} (weather bonus x{w_att:.2f})", *_defence_reasons(dfn)]
    return {"ratio": ratio, "p_gain": p_gain, "attack_power": cp_att, "defence_power": cp_def,
            "expected_attacker_losses": loss_att, "expected_defender_losses": loss_def, "reasons": reasons,
            "defenders": list(dfn["defenders"])}


def gain_chance(m: WargameModel, ratio: float) -> float:
    """The chance that an assault at power ratio ``ratio`` gains ground (`odds`'s ``p_gain``)."""
    return 1.0 / (1.0 + (m.p.assault.r50 / ratio) ** m.p.assault.k)


def best_odds(m: WargameModel, attackers: list[Unit], targets: list[list[int]],
              cache: dict | None = None) -> list[tuple[float, int]]:
    """For each of ``attackers`` (all of one side) alone, the best of its ``targets`` (a non-empty list each): the
    highest ``odds(m, Assault(attacker.uid, t), cache)["ratio"]`` and the first target with it. A commander weighing
    every unit at the front compares these, and asks `odds` only about the few it orders: the defence of every hex
    is worked out once (`_defence_powers`, kept in ``cache``) and all the ratios in one array operation."""
    if not attackers:
        return []
    w = _weather(m)
    w_att = _weather_bonus(m, w)
    dside = other(attackers[0].side)
    cp_def = _memo(cache, ("defence_powers", dside), lambda: _defence_powers(m, dside, w))
    counts = np.array([len(ts) for ts in targets])
    hexes = np.fromiter(chain.from_iterable(targets), dtype=np.int64, count=counts.sum())
    defence = cp_def[hexes]
    attack = np.repeat(_unit_powers(m, attackers) * w_att, counts)
    # _ratio for every pair: the attack over a positive defence, at most 99
    ratios = np.minimum(np.divide(attack, defence, out=np.full(defence.size, 99.0), where=defence > 0), 99.0)
    starts = np.cumsum(counts) - counts
    best = ratios == np.repeat(np.maximum.reduceat(ratios, starts), counts)
    at_best = np.flatnonzero(best)
    first = at_best[np.searchsorted(at_best, starts)]  # each attacker's first target with its best ratio
    return list(zip(ratios[first].tolist(), hexes[first].tolist(), strict=True))


def _balance(m: WargameModel, order: Assault, cache: dict | None) -> tuple:
    """What the odds rest on: the attackers, the weather's bonus to them, their power, the target's defence
    (remembered in ``cache``) and the ratio of the two powers."""
    attackers = [m.units[uid] for uid in order.units]
    w = _weather(m)
    w_att, cp_att = _attack_power(m, attackers, w)
    dfn = _target_defence(m, other(attackers[0].side), order.target, w, cache)
    return attackers, w_att, cp_att, dfn, _ratio(cp_att, dfn["cp_def"])


def _weather(m: WargameModel) -> dict:
    return m.weather or {"visibility": 1.0, "blind_share": 0.0}


def _weather_bonus(m: WargameModel, w: dict) -> float:
    """How much the weather strengthens attackers: drone-blind days favour them."""
    return 1.0 + m.p.assault.blind_bonus * w.get("blind_share", 0.0)


def _attack_power(m: WargameModel, attackers: list[Unit], w: dict) -> tuple[float, float]:
    """The weather's bonus to the attackers and their power with it."""
    w_att = _weather_bonus(m, w)
    return w_att, sum(unit_power(m, u) for u in attackers) * w_att


def _ratio(cp_att: float, cp_def: float) -> float:
    return min(cp_att / cp_def if cp_def > 0 else 99.0, 99.0)


def _target_defence(m: WargameModel, dside: str, t: int, w: dict, cache: dict | None) -> dict:
    """`_defence`, remembered in ``cache``: it is the same whoever attacks the target."""
    return _memo(cache, ("defence", dside, t), lambda: _defence(m, dside, t, w, cache))


def _defence(m: WargameModel, dside: str, t: int, w: dict, cache: dict | None) -> dict:
    """The defence of hex ``t`` by ``dside``: its power, personnel and the factors behind them (put in words by
    `_defence_reasons` only when the full odds are asked for)."""
    p = m.p
    d = 0 if dside == "ru" else 1
    defs = defenders(m, dside, t, cache)
    base_def = sum(unit_power(m, u) * share for u, share in defs)
    base_def += m.presence[d, t] * p.control.extra.presence_quality
    is_manned = manned_at(m, dside, t)  # once per target: _defence is itself remembered in the AI's cache
    level = int(m.fort[t]) if is_manned else 0
    posture = p.assault.posture[level]
    fmult = p.fortification.multiplier[level]
    terrain = p.terrain.defence[int(m.map.terrain[t])]
    overwatch = 1.0 + p.assault.omega * float(m.isr[d, t]) * w.get("visibility", 1.0)
    cp_def = base_def * posture * fmult * terrain * overwatch * float(m.gap[d, t])
    n_def = sum(u.personnel * share for u, share in defs) + m.presence[d, t]
    works = "manned" if is_manned else "unmanned" if m.fort[t] else "none"
    return {"cp_def": cp_def, "n_def": n_def, "defenders": [u.uid for u, _ in defs], "shares": defs,
            "factors": (base_def, posture, fmult, works, terrain, overwatch, m.gap[d, t])}


def _defence_powers(m: WargameModel, dside: str, w: dict) -> np.ndarray:
    """`_defence`'s ``cp_def`` of every hex at once, bit for bit (the same terms, added and multiplied in the same
    order): a commander weighs dozens of targets a turn, and one pass over the map costs less than one each."""
    p = m.p
    d = 0 if dside == "ru" else 1
    units = sorted(m.side_units(dside, "manoeuvre"), key=lambda u: u.uid)  # the order `defenders` adds them in
    power = _unit_powers(m, units)
    hexes = np.array([u.hex for u in units], dtype=np.int64)
    spread = p.control.extra.garrison_spread / 6.0
    base_def = _pooled_power(m.map.nbr, hexes, power, power * spread, m.own_share(dside) >= 0.5)
    base_def += m.presence[d] * p.control.extra.presence_quality
    level = np.where(manned(m, dside), m.fort, 0)
    posture = np.asarray(p.assault.posture, dtype=float)[level]
    fmult = np.asarray(p.fortification.multiplier, dtype=float)[level]
    terrain = np.asarray(p.terrain.defence, dtype=float)[m.map.terrain]
    overwatch = 1.0 + p.assault.omega * m.isr[d] * w.get("visibility", 1.0)
    return base_def * posture * fmult * terrain * overwatch * m.gap[d]


@njit(cache=True)
def _pooled_power(nbr: np.ndarray, hexes: np.ndarray, power: np.ndarray, spread_power: np.ndarray,
                  holds: np.ndarray) -> np.ndarray:
    """The power fighting for each hex (`defenders`): a unit's whole power in its own hex and its spread share in
    each neighbour its side holds, added unit by unit in the order given (neighbourhood is symmetric)."""
    total = np.zeros(nbr.shape[0])
    for i in range(hexes.size):
        x = hexes[i]
        total[x] += power[i]
        for t in nbr[x]:
            if t >= 0 and holds[t]:
                total[t] += spread_power[i]
    return total


def _defence_reasons(dfn: dict) -> list[str]:
    """Why a defence (`_defence`) is as strong as it is, in words."""
    base_def, posture, fmult, works, terrain, overwatch, gap = dfn["factors"]
    reasons = [f"defence power {dfn['cp_def']:.0f} = base {base_def:.0f} x posture {posture} x fortification {fmult} "
               f"({works}) x terrain {terrain} x drone overwatch {overwatch:.2f}"]
    if gap < 1:
        reasons.append("a gap has opened in the defence here")
    return reasons


def resolve(m: WargameModel) -> None:
    p = m.p
    grouped = {("by_hex", side): _units_by_hex(m, side) for side in SIDES}  # nobody moves in this phase
    for order in [o for o in m.turn_orders if isinstance(o, Assault)]:
        attackers = [m.units[uid] for uid in order.units if uid in m.units and m.units[uid].alive]
        attackers = [u for u in attackers if m.map.distance(u.hex, order.target) == 1]
        if not attackers:
            continue
        order = Assault(attackers[0].uid, order.target, tuple(u.uid for u in attackers[1:]))
        shared = dict(grouped)  # and this assault's defence, found by odds(), for sharing out the casualties
        o = odds(m, order, shared)
        side = attackers[0].side
        dside = other(side)
        a, d = (0, 1) if side == "ru" else (1, 0)
        gained = m.rng.random() < o["p_gain"]
        # casualties, spread over the units in proportion to their size, drawn around the expectation
        noise = m.rng.lognormal(0.0, 0.25, size=2)
        n_att = sum(u.personnel for u in attackers)
        att_lost = 0.0
        for u in attackers:
            att_lost += m.record_loss(side, "assault", o["expected_attacker_losses"] * noise[0] * u.personnel / n_att, u)
        # exposed vehicles and men draw the defender's drones
        exposure = p.assault.vehicle_exposure if any(u.utype.vehicle == "apc" for u in attackers) else 0.3
        seen = n_att * exposure * float(m.isr[d, order.target]) * m.weather["visibility"]
        drone_exp = m.strike_pools[dside].allocate_at(order.target, seen)
        drone_lost = 0.0
        for u in attackers:
            drone_lost += m.record_loss(side, "drones", drone_exp * u.personnel / max(n_att, 1), u)
        # the defence odds() found: only the attackers have lost men since, so its defenders and their number stand
        dfn = shared[("defence", dside, order.target)]
        defs, n_def = dfn["shares"], dfn["n_def"]
        def_lost = 0.0
        if n_def > 0:
            for u, share in defs:
                def_lost += m.record_loss(dside, "assault", o["expected_defender_losses"] * noise[1]
                                          * u.personnel * share / n_def, u)
            pres_loss = min(m.presence[d, order.target],
                            o["expected_defender_losses"] * noise[1] * m.presence[d, order.target] / n_def)
            m.presence[d, order.target] -= pres_loss
            def_lost += m.record_loss(dside, "assault", pres_loss)
        gain = 0.0
        if gained:
            lo, hi = p.assault.gain
            gain = lo + (hi - lo) * m.rng.random()
            sign = 1.0 if side == "ru" else -1.0
            m.control[order.target] = float(min(max(m.control[order.target] + sign * gain, 0.0), 1.0))
            lodged = 0.0
            for u in attackers:
                move = u.personnel * p.assault.extra.lodgement
                u.status.personnel -= float(move)
                lodged += move
            m.presence[a, order.target] += lodged
        m.emit("assault", "assault", side, order.target,
               "Assault on {target} by {units}: odds {ratio:.2f} ({why}), chance {p:.0%}: {result}. Attackers lost "
               "{al:.0f} in the fight and {dl:.0f} to drones; defenders lost {df:.0f}.",
               target=m.hex_label(order.target), units=", ".join(u.name for u in attackers), ratio=o["ratio"],
               why="; ".join(o["reasons"]), p=o["p_gain"],
               result=f"ground gained (control {gain:+.2f})" if gained else "repulsed",
               al=att_lost, dl=drone_lost, df=def_lost)
