"""A fit on a real Dask cluster — a `dask scheduler` and two `dask worker` processes on
127.0.0.1, started by the test — survives losing a worker mid-fit: every start is in the
result exactly once and the result equals the in-process fit at the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from paracrine.fitting import fit_multistart
from paracrine.testing import ChainProblem

N_STARTS = 8


def _spawn(*args: str, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture
def cluster(tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    log = (tmp_path / "cluster.log").open("w")
    procs = [
        _spawn(
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
            log=log,
        )
    ]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert scheduler_file.exists(), "the scheduler did not start"
    address = json.loads(scheduler_file.read_text())["address"]
    workers = [
        _spawn(
            "distributed.cli.dask_worker",
            address,
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--no-dashboard",
            "--memory-limit",
            "0",
            "--name",
            f"w{i}",
            log=log,
        )
        for i in range(2)
    ]
    procs += workers
    import distributed

    with distributed.Client(address, set_as_default=False, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield address, workers
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_a_fit_survives_a_killed_worker_and_equals_the_local_fit(cluster, tmp_path):
    address, workers = cluster
    problem = ChainProblem.simulate_data(k1=0.1, k2=0.03, seed=1)
    problem.delay_s = 0.01  # a start takes ~0.3–1 s: long enough to lose one mid-fit
    local = fit_multistart(problem, n_starts=N_STARTS, seed=3, workers=1, progress=False)

    checkpoint = tmp_path / "starts.jsonl"
    killed = threading.Event()

    def kill_one_worker_after_the_first_start():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if checkpoint.exists() and checkpoint.read_text().count("\n") >= 2:
                os.killpg(workers[0].pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_after_the_first_start, daemon=True)
    killer.start()
    remote = fit_multistart(
        problem,
        n_starts=N_STARTS,
        seed=3,
        scheduler=address,
        workers=None,
        progress=False,
        checkpoint=checkpoint,
    )
    killer.join(timeout=5)
    assert killed.is_set(), "the worker was never killed: the fit ended before a start finished"
    assert workers[0].poll() is not None  # it is really gone
    indices = sorted(s.index for s in remote.starts)
    assert indices == list(range(N_STARTS))  # every start exactly once
    assert remote.n_failed == 0
    by_index = {s.index: s for s in remote.starts}
    for s in local.starts:
        np.testing.assert_allclose(by_index[s.index].x, s.x, rtol=0, atol=1e-9)
        assert by_index[s.index].nllh == pytest.approx(s.nllh, abs=1e-9)
