"""Run the project's benchmarks with one command: `python benchmarks/run.py` (or `make bench`).

Figures print one per line as `name: value unit`; ratios compare against a baseline measured in the same run.
"""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
