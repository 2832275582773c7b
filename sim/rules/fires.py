"""Strike and interdict orders for drone and fires units, and glide bombs breaking fortifications.

Without orders, drone units fly a default share of sorties against roads and keep the rest for whatever their
coverage detects (see isr.py). A `strike` order spends a unit's capacity on one hex's garrison first; an
`interdict` order turns most of its sorties onto the roads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.orders import DigIn, Strike
from sim.rules.infiltration import concealment_by_hex
from sim.units import other

if TYPE_CHECKING:
    from sim.model import WargameModel


def prepare(m: WargameModel) -> None:
    """Read this turn's orders that shape the fields: interdiction shares and digging."""
    m.interdiction_share = {}
    for o in m.turn_orders:
        if isinstance(o, Strike) and o.mode == "interdict":
            m.interdiction_share[o.unit] = m.p.isr.interdict_order_share
        elif isinstance(o, Strike):
            m.interdiction_share[o.unit] = 0.0
    for u in m.units.values():
        u.status.digging = False
    for o in m.turn_orders:
        if isinstance(o, DigIn) and o.unit in m.units:
            m.units[o.unit].status.digging = True


def resolve(m: WargameModel) -> None:
    """Strike orders resolve together against the concealment the targets had at the start of the phase."""
    p = m.p
    strikes = [o for o in m.turn_orders if isinstance(o, Strike) and o.mode == "strike"]
    cover = {side: concealment_by_hex(m, side, [o.target for o in strikes]) for side in ("ru", "ua")}
    cap_share = min(1.0, p.fires.extra.max_hex_share * m.turn_days / 7.0)
    budget: dict[tuple[str, int], float] = {}  # what strikes may still kill per (side struck, hex) this turn
    by_hex: dict[int, list] = {}  # nobody moves in this phase: group the units once, in the model's order
    for u in m.units.values():
        by_hex.setdefault(u.hex, []).append(u)
    pool_index = {side: {u.uid: i for i, u in enumerate(pool.units)} for side, pool in m.strike_pools.items()}
    for order in strikes:
        unit = m.units.get(order.unit)
        if unit is None or not unit.alive:
            continue
        side, t = unit.side, order.target
        pool = m.strike_pools[side]
        idx = pool_index[side][unit.uid]
        if not pool.reach[idx, t]:
            continue
        enemy = other(side)
        e = 0 if enemy == "ru" else 1
        targets = [u for u in by_hex.get(t, ()) if u.side == enemy and u.alive]
        people = sum(u.personnel for u in targets) + m.presence[e, t]
        s = 0 if side == "ru" else 1
        level = int(m.fort[t])
        seen_share = min(1.0, float(m.isr[s, t]) * m.weather["visibility"]
                         * cover[enemy][t] / p.fortification.multiplier[level])
        left = budget.setdefault((enemy, t), people * cap_share)
        expected = pool.spend_on(idx, t, min(people * seen_share * p.fires.extra.exposed_share, left))
        killed = float(m.rng.poisson(expected)) if expected > 0 else 0.0
        killed = min(killed, left)
        budget[(enemy, t)] = left - killed
        cause = "drones" if unit.utype.role == "drone" else "fires"
        lost = 0.0
        for u in targets:
            lost += m.record_loss(enemy, cause, killed * u.personnel / max(people, 1e-9), u)
        pres_loss = killed * m.presence[e, t] / max(people, 1e-9)
        m.presence[e, t] -= pres_loss
        lost += m.record_loss(enemy, cause, pres_loss)
        degraded = ""
        if unit.utype.fires_per_day > 0 and level > 0:
            heavy = p.fires.kab_share if side == "ru" else p.fires.extra.heavy_share_ua
            strike_days = m.turn_days * heavy
            if m.rng.random() < 1.0 - (1.0 - p.fortification.degrade_p) ** strike_days:
                m.fort[t] = level - 1
                degraded = f"; fortification broken from level {level} to {level - 1}"
        m.emit("fires", "strike", side, t,
               "{unit} strikes {target}: {seen:.0%} of {people:.0f} people there seen, {lost:.0f} killed{deg}.",
               unit=unit.name, target=m.hex_label(t), seen=seen_share, people=people, lost=lost, deg=degraded)


def dig(m: WargameModel) -> None:
    """Digging units add to the works in their hex; each level takes `fortification.build_days`."""
    p = m.p
    for u in sorted((u for u in m.units.values() if u.status.digging and u.alive), key=lambda u: u.uid):
        h = u.hex
        level = int(m.fort[h])
        if level >= 3:
            continue
        speed = p.fortification.engineer_speed if u.utype.engineer else 1.0
        u.status.fort_work += m.turn_days * speed
        need = p.fortification.build_days[level + 1]
        if u.status.fort_work >= need:
            u.status.fort_work -= need
            m.fort[h] = level + 1
            m.fort_side[h] = 0 if u.side == "ru" else 1
            m.emit("fortification", "dig", u.side, h, "{unit} completes level-{lvl} works at {at}.",
                   unit=u.name, lvl=level + 1, at=m.hex_label(h))
