"""Run jobs (a document's parse) in worker processes, each under a budget.

One hostile file must not stop an archive of thousands: a parse may loop for
hours in PDFium, allocate gigabytes for a spreadsheet cell far to the right or
crash outright. So every job runs in a worker process (pebble's pool: a
worker that dies or overruns is replaced, and only its own job fails) with

* an **address-space** limit (``RLIMIT_AS``, set once in each worker): an
  allocation past it fails inside the worker (``MemoryError``, or PDFium
  aborting the process);
* a **CPU** limit (``RLIMIT_CPU``, re-armed before each job at the CPU time
  used so far plus the budget): past it the kernel ends the worker;
* a **wall-clock** limit (the pool kills a worker whose job runs longer).

Whatever happens, the caller gets an :class:`Outcome`: the job's value, the
error it raised, or why it did not finish (``limit``, a sentence for users),
with the CPU time, wall time and peak memory the job used. How jobs are fed
(after a crawl, during it, from a queue) is the caller's business.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pebble

from .errors import NianbaoError

T = TypeVar("T")
K = TypeVar("K")
MAX_TASKS = 500  # a worker is replaced after this many jobs (memory fragmentation, leaks in C libraries)
# imported once in the fork server, so each new worker starts warm
_PRELOAD = ["archive.sources", "archive.parse"]


@dataclass(frozen=True)
class Budget:
    """What one document's parse may use (config.yaml ``parse:``; README, "Budgets")."""

    wall_seconds: float = 180.0
    cpu_seconds: float = 60.0
    memory_mb: int = 2048  # address space of the worker process, interpreter and libraries included
    attempts: int = 3  # interrupted parses of one report before it is parked as unparseable


class BudgetExceeded(NianbaoError):
    """A job ran out of its budget, or its worker process died."""


class JobCrashed(NianbaoError):
    """A job raised an unexpected exception (a bug): its type and message, kept as text."""


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    wall_seconds: float
    peak_mb: float  # the worker's peak resident memory during the job (what it held before included)


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    error: NianbaoError | None = None  # what the job raised (a NianbaoError as is, anything else as JobCrashed)
    limit: str | None = None  # why the job did not finish: a budget it exceeded or how its worker died
    usage: Usage | None = None

    def result(self) -> T:
        """The job's value; its error, or ``BudgetExceeded``, raised."""
        if self.limit is not None:
            raise BudgetExceeded(self.limit)
        if self.error is not None:
            raise self.error
        return self.value


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def _reset_peak() -> None:
    try:  # Linux: "5" resets the peak resident set size (VmHWM)
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass


def _limit_worker(memory_mb: int, niceness: int) -> None:
    """In each new worker: the address-space limit, no core files, and the pool's CPU priority."""
    if niceness:
        os.nice(niceness)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    soft = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _arm_cpu(cpu_seconds: float) -> float:
    """Set the CPU limit to what this worker used so far plus the budget; returns the usage so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + cpu_seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return used


def _run(fn: Callable[..., T], args: tuple, cpu_seconds: float, memory_mb: int) -> Outcome[T]:
    """In the worker: one job under the CPU limit, measured."""
    _reset_peak()
    used = _arm_cpu(cpu_seconds)
    started = time.monotonic()
    outcome: Outcome[T] = Outcome()
    try:
        outcome.value = fn(*args)
    except MemoryError:
        outcome.limit = f"内存超出预算（{memory_mb} MB）"
    except NianbaoError as e:
        outcome.error = e
    except RecursionError:
        outcome.error = JobCrashed("结构嵌套过深，无法处理（RecursionError）")
    except Exception as e:  # a bug must cost this job only, and reach the caller as text
        outcome.error = JobCrashed(f"内部错误，请报告：{type(e).__name__}: {str(e)[:300]}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = _status_kb("VmHWM") or usage.ru_maxrss
    outcome.usage = Usage(usage.ru_utime + usage.ru_stime - used, time.monotonic() - started, peak_kb / 1024)
    return outcome


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"退出码 {code}"


class Isolated:
    """A pool of worker processes running jobs under one :class:`Budget`.

    ::

        with Isolated(Budget(), workers=2) as pool:
            outcome = pool.submit(parse_file, path).result()   # an Outcome, never raises
            for key, outcome in pool.run((k, fn, args) for ...):  # completion order
                ...
    """

    def __init__(self, budget: Budget | None = None, workers: int = 1, niceness: int = 0):
        """``niceness``: the workers' CPU priority below this process's (``os.nice``)."""
        self.budget = budget or Budget()
        self.workers = max(1, workers)
        self.niceness = niceness
        self._pool: pebble.ProcessPool | None = None

    def __enter__(self) -> Isolated:
        self._start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _start(self) -> None:
        context = multiprocessing.get_context("forkserver")  # workers forked from a clean, single-threaded server
        context.set_forkserver_preload(_PRELOAD)
        self._pool = pebble.ProcessPool(
            max_workers=self.workers,
            max_tasks=MAX_TASKS,
            initializer=_limit_worker,
            initargs=(self.budget.memory_mb, self.niceness),
            context=context,
        )

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # kills workers still running a job (an interrupted caller)
            self._pool.join()
            self._pool = None

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[Outcome[T]]:
        """Run ``fn(*args)`` in a worker; the future's result is an :class:`Outcome` (it never raises)."""
        if self._pool is None:
            raise RuntimeError("Isolated is used as a context manager")
        b = self.budget
        call = {"args": (fn, args, b.cpu_seconds, b.memory_mb), "timeout": b.wall_seconds}
        try:
            inner = self._pool.schedule(_run, **call)
        except RuntimeError:  # pebble gives up on a pool whose worker died outside any job: a new pool
            self._stop()
            self._start()
            try:
                inner = self._pool.schedule(_run, **call)
            except RuntimeError as e:
                raise NianbaoError(f"解析进程无法启动：{e}") from None
        outer: Future[Outcome[T]] = Future()
        inner.add_done_callback(lambda f: outer.set_result(self._outcome(f)))
        return outer

    def _outcome(self, future) -> Outcome:
        b = self.budget
        try:
            return future.result()
        except FutureTimeout:
            return Outcome(limit=f"解析超时（超过 {b.wall_seconds:g} 秒）")
        except pebble.ProcessExpired as e:
            if e.exitcode == -signal.SIGXCPU:
                return Outcome(limit=f"CPU 时间超出预算（{b.cpu_seconds:g} 秒）")
            return Outcome(
                limit=f"解析进程异常终止（{_signal_name(e.exitcode)}；常见原因：内存超出预算 {b.memory_mb} MB，或文件损坏）"
            )
        except CancelledError:
            return Outcome(limit="解析被取消")
        except Exception as e:  # the pool itself failed (a result too large to send back …)
            return Outcome(error=JobCrashed(f"解析进程通信失败：{type(e).__name__}: {str(e)[:300]}"))

    def run(
        self,
        jobs: Iterable[tuple[K, Callable[..., T], tuple]],
        on_submit: Callable[[K], None] | None = None,
    ) -> Iterator[tuple[K, Outcome[T]]]:
        """``(key, fn, args)`` jobs, at most one per worker in flight (so ``on_submit(key)``
        is called only for jobs that are about to run); ``(key, outcome)`` in completion order."""
        pending = iter(jobs)
        running: dict[Future, K] = {}
        while True:
            while len(running) < self.workers:
                job = next(pending, None)
                if job is None:
                    break
                key, fn, args = job
                if on_submit is not None:
                    on_submit(key)
                running[self.submit(fn, *args)] = key
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield running.pop(future), future.result()


def default_workers() -> int:
    """Parse workers: one per core but one (the crawl or the writer keeps the last)."""
    return max(1, (os.cpu_count() or 2) - 1)
