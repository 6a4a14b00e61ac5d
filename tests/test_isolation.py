"""Jobs under a budget in worker processes (archive.isolation): each way a job can
overrun or die ends as that job's outcome, with a reason, and the pool goes on."""

from __future__ import annotations

import os
import signal
import time

import pytest

from archive.errors import ExtractError
from archive.isolation import Budget, BudgetExceeded, Isolated, JobCrashed


def spin() -> None:
    while True:
        pass


def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "awake"


def hoard(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
    return len(block)


def die(sig: int) -> None:
    os.kill(os.getpid(), sig)


def refuse() -> None:
    raise ExtractError("corrupt or unreadable PDF")


def bug() -> None:
    return {}["missing"]


def square(n: int) -> int:
    return n * n


def test_cpu_budget():
    with Isolated(Budget(wall_seconds=600, cpu_seconds=1)) as pool:
        outcome = pool.submit(spin).result()
        assert outcome.limit == "CPU 时间超出预算（1 秒）"
        with pytest.raises(BudgetExceeded, match="CPU"):
            outcome.result()
        assert pool.submit(square, 7).result().result() == 49  # a new worker took its place


def test_wall_clock_budget():
    with Isolated(Budget(wall_seconds=1, cpu_seconds=60)) as pool:
        assert pool.submit(nap, 600).result().limit == "解析超时（超过 1 秒）"
        assert pool.submit(nap, 0).result().result() == "awake"


def test_memory_budget():
    with Isolated(Budget(memory_mb=512)) as pool:
        outcome = pool.submit(hoard, 2048).result()
        assert outcome.limit == "内存超出预算（512 MB）"
        small = pool.submit(hoard, 100).result()
        assert small.result() == 100 * 1024 * 1024
        assert 100 <= small.usage.peak_mb < 512  # the job's own peak, measured in the worker


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL, signal.SIGABRT])
def test_a_worker_that_dies_costs_its_job_only(sig):
    with Isolated(Budget(), workers=2) as pool:
        outcomes = [pool.submit(die, sig), pool.submit(square, 3), pool.submit(square, 4)]
        dead, *rest = [f.result() for f in outcomes]
        assert dead.limit.startswith("解析进程异常终止") and sig.name in dead.limit
        assert [o.result() for o in rest] == [9, 16]


def test_errors_come_back_as_errors():
    with Isolated() as pool:
        with pytest.raises(ExtractError, match="corrupt"):
            pool.submit(refuse).result().result()
        with pytest.raises(JobCrashed, match="KeyError"):
            pool.submit(bug).result().result()


def test_run_keeps_one_job_per_worker_in_flight_and_yields_as_they_finish():
    submitted: list[int] = []
    done: list[int] = []
    with Isolated(workers=2) as pool:
        jobs = ((n, nap if n == 0 else square, (5,) if n == 0 else (n,)) for n in range(6))
        for key, outcome in pool.run(jobs, on_submit=submitted.append):
            assert len(submitted) - len(done) <= 2  # only jobs about to run are announced
            done.append(key)
            assert outcome.limit is None
    assert sorted(done) == list(range(6)) and done[-1] == 0  # the slow one last, the others did not wait
