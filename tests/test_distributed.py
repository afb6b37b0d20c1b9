"""``gather=True`` across real processes: two CPU ranks (gloo, localhost) under
DistributedDataParallel give the parameter gradients of one process on the whole batch, for
every in-batch loss, dense and chunked; the same check flags a gather without gradient
(tests/distributed_worker.py does the work, started by ``torch.distributed.run``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from distributed_worker import NAMES

WORKER = Path(__file__).with_name("distributed_worker.py")
CASES = [f"{name}/chunk={chunk}" for name in NAMES for chunk in (None, 4)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ranks")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(free_port()), str(WORKER), str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in (0, 1)]


def test_two_ranks_ran(reports):
    assert [r["world"] for r in reports] == [2, 2]
    assert all(set(r["with_grad"]) == set(CASES) == set(r["without_grad"]) for r in reports)


@pytest.mark.parametrize("case", CASES)
def test_gathered_gradients_equal_the_single_process_gradients(reports, case):
    for report in reports:
        assert report["with_grad"][case] < 1e-10, (case, report["with_grad"][case])


@pytest.mark.parametrize("case", CASES)
def test_the_check_detects_a_gather_without_gradient(reports, case):
    for report in reports:
        assert report["without_grad"][case] > 1e-2, (case, report["without_grad"][case])
