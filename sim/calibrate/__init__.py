"""Calibration of the uncertain rule parameters against the 2024-25 occupied-area series and town-fall dates.

`targets` reads the observed data (kept outside the project, in ../shared/calibration), `fit` runs the Latin
hypercube search through the batch machinery's plans and seeds and scores each point, and `report` writes
`docs/calibration.md` with its figures. `wargame calibrate` runs all three.
"""

from sim.calibrate.targets import CalibrationTargets, TargetsMissing, load_targets

__all__ = ["CalibrationTargets", "TargetsMissing", "load_targets"]
