"""Running many files: in parallel on every core, with a progress bar on a terminal.

The per-file work (:func:`cfnfix.app.process`) is pure, so files are spread over worker
processes; results are sorted afterwards, so output is identical whatever the number
of jobs.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

from cfnfix import registry
from cfnfix.app import FileResult, Options, process
from cfnfix.files import Target

# Below this many files a pool costs more than it saves.
MIN_FILES_PER_WORKER = 8
PROGRESS_THRESHOLD = 200


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _process_many(batch: list[tuple[Target, Options]]) -> list[FileResult]:
    return [process(target, options) for target, options in batch]


def _batches(
    items: Sequence[Target], options: Options, size: int
) -> Iterator[list[tuple[Target, Options]]]:
    for start in range(0, len(items), size):
        yield [(target, options) for target in items[start : start + size]]


def run(targets: Sequence[Target], options: Options, jobs: int) -> list[FileResult]:
    jobs = max(1, min(jobs or default_jobs(), len(targets) // MIN_FILES_PER_WORKER or 1))
    progress = _progress(len(targets))
    results: list[FileResult] = []
    if jobs == 1:
        for target in targets:
            results.append(process(target, options))
            progress(1)
        return results
    registry.entry_point_rules()  # load rules once; forked workers inherit them
    batch_size = max(1, min(32, len(targets) // (jobs * 4) or 1))
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for batch in pool.map(_process_many, _batches(targets, options, batch_size)):
            results.extend(batch)
            progress(len(batch))
    return results


def _progress(total: int) -> Callable[[int], None]:
    """A callback advancing a progress bar on a terminal (stderr) for long runs."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty() or "NO_COLOR" in os.environ:
        return lambda done: None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("checking", total=total)
    bar.start()
    finished = 0

    def advance(done: int) -> None:
        nonlocal finished
        finished += done
        bar.update(task, advance=done)
        if finished >= total:
            bar.stop()

    return advance
