"""Events: small records of what happened in a turn and why.

Rules return events; the UI log, the after-action review and batch outputs read them. The text is formatted only
when somebody asks for it, so headless batches do not pay for sentences nobody reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Event:
    turn: int
    phase: str
    kind: str
    side: str | None
    hex: int | None
    template: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The event in one sentence, with its reasons."""
        return self.template.format(**self.data)

    def to_dict(self) -> dict[str, Any]:
        return {"turn": self.turn, "phase": self.phase, "kind": self.kind, "side": self.side, "hex": self.hex,
                "text": self.text, "data": {k: _plain(v) for k, v in self.data.items()}}


def _plain(value: Any) -> Any:
    """Numpy scalars and floats rounded to plain JSON values."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4)
    return value
