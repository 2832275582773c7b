"""Claims and reality: public claims, what open sources can see, and how both compare with the truth.

Both sides announce that they hold places; open-source analysts see the true front late and only in part; a class
draws its own map. The debrief scores each claim and the analysts' map against the true control. Everything here
is a pure function of control arrays (0 Ukrainian .. 1 Russian per hex) and hex sets, so it is easy to check by
hand. Three states are kept apart on purpose: held by Russia, held by Ukraine, and contested ("no-man's land").

Class files are CSV (or TOML with the same fields):

- claims: ``side,place,turn`` (or ``date`` instead of ``turn``), optional ``source``;
- analyst map: ``place,holder`` with holder ``ru``, ``ua`` or ``contested``, optional ``turn``/``date``.
"""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STATES = ("ru", "ua", "contested")
SIDES = ("ru", "ua")


class ClaimsError(ValueError):
    """A claims or analyst-map file with a mistake; the message names the file and row."""


@dataclass(frozen=True)
class Claim:
    """A side's public statement that it holds ``place`` on ``turn``."""

    side: str
    place: str
    turn: int
    source: str = ""


@dataclass(frozen=True)
class ClaimScore:
    claim: Claim
    verdict: str  # "true", "false" or "contested"
    mean_control: float  # the claimant's own share of control over the place, 0..1
    share_held: float  # share of the place's hexes the claimant held outright
    share_enemy: float  # share the other side held outright
    true_from: int | None  # first turn at or after the claim when it was true (None: never in the record)

    @property
    def turns_early(self) -> int | None:
        """How many turns the claim ran ahead of the truth (0 when it was true when made)."""
        return None if self.true_from is None else self.true_from - self.claim.turn


def state_of(control: float, hi: float) -> str:
    """The state of a control value: held by one side beyond ``hi``, else contested."""
    return "ru" if control >= hi else "ua" if control <= 1.0 - hi else "contested"


def hex_states(control: np.ndarray, hi: float) -> np.ndarray:
    """Per-hex state labels for a control array."""
    return np.where(control >= hi, "ru", np.where(control <= 1.0 - hi, "ua", "contested"))


def place_state(control: np.ndarray, hexes: np.ndarray, hi: float) -> str:
    """Who holds a place (its hexes' mean control)."""
    return state_of(float(np.mean(control[hexes])), hi)


def score_claim(claim: Claim, controls: Sequence[np.ndarray], hexes: np.ndarray, hi: float) -> ClaimScore:
    """Score one claim against the true control at its turn (``controls[t]`` = control at the start of turn t)."""
    if claim.side not in SIDES:
        raise ClaimsError(f"claim side must be ru or ua, got {claim.side!r}")
    t = min(max(claim.turn, 0), len(controls) - 1)
    c = np.asarray(controls[t])[hexes]
    own = c if claim.side == "ru" else 1.0 - c
    verdict_state = state_of(float(own.mean()), hi)
    verdict = {"ru": "true", "ua": "false", "contested": "contested"}[verdict_state]
    true_from = None
    for k in range(t, len(controls)):
        share = np.asarray(controls[k])[hexes]
        if state_of(float((share if claim.side == "ru" else 1.0 - share).mean()), hi) == "ru":
            true_from = k
            break
    return ClaimScore(claim, verdict, float(own.mean()), float((own >= hi).mean()), float((own <= 1.0 - hi).mean()),
                      true_from)


def osint_view(controls: Sequence[np.ndarray], turn: int, delay: int, covered: np.ndarray, hi: float) -> np.ndarray:
    """What open sources show at ``turn``: the true state ``delay`` turns earlier, "unknown" where not covered."""
    t = min(max(turn - delay, 0), len(controls) - 1)
    states = hex_states(np.asarray(controls[t]), hi).astype(object)
    states[~np.asarray(covered, dtype=bool)] = "unknown"
    return states


def coverage_from_isr(isr: np.ndarray, threshold: float = 0.2) -> np.ndarray:
    """Hexes open sources see: where either side's drones watch (their videos leak) above ``threshold``."""
    return np.asarray(isr).max(axis=0) >= threshold


def random_coverage(n: int, share: float, seed: int) -> np.ndarray:
    """A seeded random share of hexes seen by the press and geolocated footage."""
    rng = np.random.default_rng(seed)
    return rng.random(n) < share


@dataclass(frozen=True)
class MapScore:
    """The analysts' map against the truth: exact matches, partial credit and where they erred."""

    items: dict[str, tuple[str, str]]  # key -> (judged, true)
    exact: float  # share judged exactly right
    credit: float  # exact = 1, a held place called contested (or the reverse) = 0.5, the wrong side = 0
    confusion: dict[tuple[str, str], int]  # (judged, true) -> count

    @property
    def wrong_side(self) -> list[str]:
        return [k for k, (j, t) in self.items.items() if {j, t} == {"ru", "ua"}]


def pair_credit(judged: str, true: str) -> float:
    if judged == true:
        return 1.0
    return 0.0 if {judged, true} == {"ru", "ua"} else 0.5


def score_map(judged: dict[str, str], truth: dict[str, str]) -> MapScore:
    """Score a map (place or hex -> ru/ua/contested) against the truth for the same keys."""
    bad = {k: v for k, v in judged.items() if v not in STATES}
    if bad:
        raise ClaimsError(f"analyst map holders must be ru, ua or contested; got {bad}")
    missing = [k for k in judged if k not in truth]
    if missing:
        raise ClaimsError(f"analyst map names places the game does not know: {', '.join(missing)}")
    items = {k: (v, truth[k]) for k, v in judged.items()}
    n = max(len(items), 1)
    confusion: dict[tuple[str, str], int] = {}
    for pair in items.values():
        confusion[pair] = confusion.get(pair, 0) + 1
    exact = sum(j == t for j, t in items.values()) / n
    credit = sum(pair_credit(j, t) for j, t in items.values()) / n
    return MapScore(items, exact, credit, confusion)


# ------------------------------------------------------------------------------------------------ class files
def _turn_of(row: dict[str, str], start: dt.date, turn_days: int, where: str) -> int:
    if (row.get("turn") or "").strip():
        try:
            return int(row["turn"])
        except ValueError:
            raise ClaimsError(f"{where}: turn must be a whole number, got {row['turn']!r}") from None
    text = str(row.get("date") or "").strip()
    if not text:
        raise ClaimsError(f"{where}: give a turn or a date (YYYY-MM-DD)")
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise ClaimsError(f"{where}: date must be YYYY-MM-DD, got {text!r}") from None
    return max(0, (date - start).days // turn_days)


def _rows(path: Path, table: str) -> list[dict[str, str]]:
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text())
            return [{k: str(v) for k, v in row.items()} for row in data.get(table, [])]
        with open(path, newline="", encoding="utf-8") as fh:
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]
    except OSError as exc:
        raise ClaimsError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ClaimsError(f"{path}: not valid TOML ({exc})") from None


def read_claims(path: str | Path, start: dt.date, turn_days: int) -> list[Claim]:
    """Claims from a class's CSV (side,place,turn|date[,source]) or TOML ([[claim]] tables)."""
    path = Path(path)
    out = []
    for i, row in enumerate(_rows(path, "claim"), start=2):
        where = f"{path} row {i}"
        side = row.get("side", "").lower()
        if side not in SIDES:
            raise ClaimsError(f"{where}: side must be ru or ua, got {row.get('side')!r}")
        if not row.get("place"):
            raise ClaimsError(f"{where}: place is empty")
        out.append(Claim(side, row["place"], _turn_of(row, start, turn_days, where), row.get("source", "")))
    return out


def read_analyst_map(path: str | Path, start: dt.date, turn_days: int,
                     default_turn: int) -> tuple[int, dict[str, str]]:
    """The analysts' map: (turn it describes, place -> holder) from CSV (place,holder[,turn|date]) or TOML."""
    path = Path(path)
    judged: dict[str, str] = {}
    turn = default_turn
    for i, row in enumerate(_rows(path, "analyst"), start=2):
        where = f"{path} row {i}"
        holder = row.get("holder", "").lower()
        if holder not in STATES:
            raise ClaimsError(f"{where}: holder must be ru, ua or contested, got {row.get('holder')!r}")
        if row.get("turn") or row.get("date"):
            turn = _turn_of(row, start, turn_days, where)
        judged[row.get("place", "")] = holder
    return turn, judged


CLAIMS_TEMPLATE = """side,place,date,source
ru,Pokrovsk centre,2025-12-01,Ministry of Defence statement
ua,Pokrovsk centre,2025-12-02,General Staff denial
"""
ANALYST_TEMPLATE = """place,holder,date
Pokrovsk centre,contested,2025-12-01
Southern Pokrovsk,ru,2025-12-01
Rodynske road,ua,2025-12-01
"""
