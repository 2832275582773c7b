"""Headless Monte Carlo: many seeded AI-against-AI games of one scenario, in parallel, resumable, with tables and plots.

`make_plan` checks a request (scenario, runs, seed, --set/--sweep/--design) and says which runs to play;
`run_batch` plays them on a local process pool or a Dask cluster and writes the outputs; `replay_task` and
`run_single` play one run of a batch alone, bit for bit. See the README's "Batches" section for the files.
"""

from sim.batch.design import BatchError, BatchPlan, make_plan, seed_for
from sim.batch.runner import (
    BatchInterrupted,
    BatchResult,
    RunTask,
    batch_throughput,
    check_options,
    replay_task,
    run_batch,
    run_single,
    single_task,
)

__all__ = ["BatchError", "BatchInterrupted", "BatchPlan", "BatchResult", "RunTask", "batch_throughput",
           "check_options", "make_plan", "replay_task", "run_batch", "run_single", "seed_for", "single_task"]
