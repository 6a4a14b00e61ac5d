"""The trial that chose the task queue (RQ or Celery, both on Redis) for distributed crawls.

    python bench/queues.py [--job-seconds 30]

For each engine: a worker takes a long job (it logs start and end with its pid),
the worker's main process is killed with SIGKILL a few seconds in, a second
worker is started at once. Printed: whether and when the job ran again, whether
the first run went on beside the second (two runs at once), and the memory of
an idle worker. Needs ``pip install rq 'celery[redis]'`` and redis-server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.redis_server import RedisServer

JOB = textwrap.dedent(
    """
    import os, time

    def long_job(log, seconds):
        with open(log, "a") as f:
            f.write(f"start {os.getpid()} {time.time()}\\n")
        time.sleep(seconds)
        with open(log, "a") as f:
            f.write(f"end {os.getpid()} {time.time()}\\n")
    """
)

CELERY_APP = textwrap.dedent(
    """
    import os
    from celery import Celery
    import trialjob

    app = Celery("trial", broker=os.environ["TRIAL_REDIS"])
    app.conf.update(
        task_acks_late=True,                 # acknowledged after the task, so a lost worker's task is redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": int(os.environ["TRIAL_VISIBILITY"])},
    )
    long_job = app.task(name="long_job")(trialjob.long_job)
    """
)


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


def _events(log: Path) -> list[tuple[str, int, float]]:
    if not log.exists():
        return []
    return [(k, int(p), float(t)) for k, p, t in (line.split() for line in log.read_text().splitlines())]


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


def trial(engine: str, tmp: Path, redis_url: str, seconds: float, visibility: int) -> None:
    log = tmp / f"{engine}.log"
    env = {**os.environ, "PYTHONPATH": str(tmp), "TRIAL_REDIS": redis_url, "TRIAL_VISIBILITY": str(visibility)}
    if engine == "rq":
        worker_cmd = [sys.executable, "-m", "crawler.workers", redis_url, "trial"]
        enqueue = (
            "import sys; from redis import Redis; from rq import Queue, Retry; "
            "Queue('trial', connection=Redis.from_url(sys.argv[1])).enqueue('trialjob.long_job', sys.argv[2], "
            "float(sys.argv[3]), retry=Retry(max=3), job_timeout=3600)"
        )
    else:
        worker_cmd = [sys.executable, "-m", "celery", "-A", "trialapp", "worker", "--pool", "prefork", "-c", "1"]
        worker_cmd += ["--max-tasks-per-child", "1", "--loglevel", "WARNING", "-n", f"w{time.time_ns()}@%h"]
        enqueue = "import sys, trialapp; trialapp.long_job.delay(sys.argv[2], float(sys.argv[3]))"
    cwd = Path(__file__).resolve().parent.parent
    first = subprocess.Popen(worker_cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    idle_mb = _rss_mb(first.pid)
    subprocess.run([sys.executable, "-c", enqueue, redis_url, str(log), str(seconds)], env=env, cwd=cwd, check=True)
    assert _wait(lambda: _events(log), 60), f"{engine}: the job never started"
    time.sleep(3)
    killed_at = time.time()
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = subprocess.Popen(worker_cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rerun = _wait(lambda: sum(k == "start" for k, _, _ in _events(log)) >= 2, seconds + visibility + 120)
        _wait(lambda: sum(k == "end" for k, _, _ in _events(log)) >= 2, seconds + 30)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait()
    events = _events(log)
    starts = [(p, t) for k, p, t in events if k == "start"]
    ends = {p: t for k, p, t in events if k == "end"}
    first_pid = starts[0][0]
    orphan = first_pid in ends
    overlap = rerun and orphan and ends[first_pid] > starts[1][1]
    print(f"{engine:7s} idle worker {idle_mb:5.0f} MB;", end=" ")
    print(
        (f"job ran again {starts[1][1] - killed_at:5.1f} s after the kill" if rerun else "job NOT run again")
        + f"; first run {'went on to its end' if orphan else 'died with its worker'}"
        + ("; TWO RUNS AT ONCE" if overlap else "")
    )
    for pid in {p for p, _ in starts} - set(ends):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job-seconds", type=float, default=30)
    parser.add_argument("--visibility", type=int, default=20, help="Celery's Redis visibility timeout for the trial")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "trialjob.py").write_text(JOB)
        (tmp / "trialapp.py").write_text(CELERY_APP)
        with RedisServer(tmp / "redis") as redis:
            print(f"job of {args.job_seconds:g} s; worker killed (SIGKILL) 3 s in; a second worker started at once")
            trial("rq", tmp, redis.url, args.job_seconds, args.visibility)
            trial("celery", tmp, redis.url, args.job_seconds, args.visibility)
            print(f"(Celery with visibility_timeout {args.visibility} s, shorter than the job, to show redelivery at all)")


if __name__ == "__main__":
    main()
