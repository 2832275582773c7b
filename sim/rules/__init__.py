"""Rule modules, one per rule family, and the order in which a turn runs them.

Each phase is a function of the model that changes its state and records events saying what happened and why.
"""

from sim.rules import assault, cohesion, control, fires, infiltration, isr, movement, supply, weather


def _prepare(m) -> None:
    fires.prepare(m)
    cohesion.mark_turn_start(m)


def _next_weather(m) -> None:
    """Roll the next turn's weather now, so players see the forecast while they give orders."""
    movement.invalidate(m)
    m.date_next = m.date_of_turn(m.turn + 1)
    saved = m.date
    m.date = m.date_next
    weather.resolve(m)
    m.date = saved


PHASES = (
    _prepare,
    movement.resolve,
    movement.invalidate,
    isr.resolve,
    fires.resolve,
    infiltration.cross,
    assault.resolve,
    infiltration.clear,
    infiltration.hunt_crews,
    control.resolve,
    control.overrun,
    movement.invalidate,
    infiltration.absorb,
    supply.resolve,
    fires.dig,
    cohesion.resolve,
    cohesion.reinforce,
    _next_weather,
)
