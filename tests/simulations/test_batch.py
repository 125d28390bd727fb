"""run_batch: task order, identical numbers with any number of workers (local processes, Dask),
failures as NaN rows, interrupts, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations import Condition, Inhibitor, Knockout, ModelSimulator
from paracrine.simulations.batch import BatchResult, run_batch

TIMES = np.linspace(0.0, 240.0, 25)


@pytest.fixture(scope="module")
def model():
    return Model("independent")


@pytest.fixture(scope="module")
def tasks(model):
    """12 tasks: doses, perturbations and an explicit parameter vector (twice the basal
    VEGFR2 of MCF-7), in two cell lines."""
    sim = ModelSimulator(model)
    vec = sim.parameter_vector("MCF-7")
    vec[sim.parameter_ids.index("R2_0")] *= 2.0
    out = []
    for line in ("MCF-7", "T47D"):
        out += [
            (Condition(f"control {line}", line), None),
            (Condition(f"IL-6 {line}", line, il6_ng_ml=50), None),
            (Condition(f"VEGF {line}", line, vegf_ng_ml=50), None),
            (
                Condition(
                    f"both, gp130 KO {line}",
                    line,
                    il6_ng_ml=50,
                    vegf_ng_ml=50,
                    perturbations=(Knockout("gp130"),),
                ),
                None,
            ),
            (
                Condition(
                    f"VEGF, MEK inhibitor {line}",
                    line,
                    vegf_ng_ml=10,
                    perturbations=(Inhibitor("MEK", 0.5),),
                ),
                None,
            ),
        ]
    out += [
        (Condition("VEGF, 2x VEGFR2", "MCF-7", vegf_ng_ml=50), vec),
        (Condition("IL-6+VEGF, 2x VEGFR2", "MCF-7", il6_ng_ml=5, vegf_ng_ml=50), vec),
    ]
    return out


@pytest.fixture(scope="module")
def serial(model, tasks):
    return run_batch(model, tasks, TIMES)


def test_results_are_in_task_order_and_match_a_plain_loop(model, tasks, serial):
    sim = ModelSimulator(model)
    expected = np.stack([sim.run(c, TIMES, p) for c, p in tasks])
    assert isinstance(serial, BatchResult)
    assert serial.values.shape == (len(tasks), TIMES.size, 4)
    assert serial.outputs == ("pERK", "pAKT", "p38", "pSTAT3")
    assert_array_equal(serial.times, TIMES)
    assert [c.name for c in serial.conditions] == [c.name for c, _ in tasks]
    assert_array_equal(serial.values, expected)
    assert serial.failures == () and serial.n_failed == 0
    assert serial.elapsed_s > 0
    # the explicit vector counts: twice the receptor gives another VEGF response
    assert not np.allclose(serial.values[2], serial.values[10])


def test_two_worker_processes_give_identical_arrays(model, tasks, serial):
    parallel = run_batch(model, tasks, TIMES, workers=2)
    assert_array_equal(parallel.values, serial.values)
    assert [c.name for c in parallel.conditions] == [c.name for c, _ in tasks]


def test_a_given_simulator_is_reused_and_outputs_are_selectable(model, tasks):
    sim = ModelSimulator(model, ["pERK", "VEGF"])
    first = run_batch(sim, tasks[:3], TIMES)
    n = sim.n_simulations
    again = run_batch(sim, tasks[:3], TIMES)
    assert first.outputs == ("pERK", "VEGF")
    assert_array_equal(first.values, again.values)
    # the second batch hits the pre-equilibration cache: one integration per task only
    assert sim.n_simulations - n == 3
    # VEGF in the medium (nM) at t = 0 of the VEGF arm: 50 ng/mL of a 45-kDa dimer
    assert first.values[2, 0, 1] == pytest.approx(50 / 45)
    with pytest.raises(InvalidInputError, match="outputs"):
        run_batch(sim, tasks[:1], TIMES, outputs=["pAKT"])


@pytest.fixture(scope="module")
def failing_tasks(model, tasks):
    """Tasks 1 and 3 have a negative VEGFR2 phosphorylation rate: pre-equilibration fails."""
    sim = ModelSimulator(model)
    bad = sim.parameter_vector("MCF-7")
    bad[sim.parameter_ids.index("k_vr_phos")] = -1.0
    return [
        tasks[1],
        (Condition("bad IL-6", "MCF-7", il6_ng_ml=50), bad),
        tasks[2],
        (Condition("bad VEGF", "MCF-7", vegf_ng_ml=50), bad),
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_simulation_gives_nan_rows_and_the_batch_goes_on(
    model, failing_tasks, serial, workers
):
    result = run_batch(model, failing_tasks, TIMES, workers=workers)
    assert result.n_failed == 2
    assert [(i, name) for i, name, _ in result.failures] == [(1, "bad IL-6"), (3, "bad VEGF")]
    assert all("k_vr_phos=-1" in message for _, _, message in result.failures)
    assert np.isnan(result.values[[1, 3]]).all()
    assert_array_equal(result.values[0], serial.values[1])
    assert_array_equal(result.values[2], serial.values[2])


def test_progress_bar(model, tasks, capsys):
    run_batch(model, tasks[:3], TIMES, progress=True)
    err = capsys.readouterr().err
    assert "simulations:" in err and "/3 " in err


def test_keyboard_interrupt_is_re_raised(model, tasks):
    class Interrupting(ModelSimulator):
        def run(self, condition, times, pvec=None):
            if condition.name.startswith("VEGF"):
                raise KeyboardInterrupt
            return super().run(condition, times, pvec)

    with pytest.raises(KeyboardInterrupt):
        run_batch(Interrupting(model), tasks, TIMES)


def test_other_errors_are_not_swallowed(model, tasks):
    class Broken(ModelSimulator):
        def run(self, condition, times, pvec=None):
            raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        run_batch(Broken(model), tasks[:2], TIMES)


def test_empty_batch(model):
    result = run_batch(model, [], TIMES)
    assert result.values.shape == (0, TIMES.size, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tasks": [Condition("x")]}, InvalidInputError, r"tasks\[0\]: expected a pair"),
        ({"tasks": [("x", None)]}, InvalidInputError, "expected a Condition"),
        (
            {"tasks": [(Condition("x"), np.ones(3))]},
            InvalidInputError,
            rf"length {len(Model('independent').parameter_ids)} \(ModelSimulator",
        ),
        ({"tasks": [(Condition("x", "HeLa"), None)]}, UnknownNameError, "cell line"),
        ({"times": [0, 10, 5]}, InvalidInputError, "increasing"),
        ({"workers": 0}, InvalidInputError, "workers"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, InvalidInputError, "exclude"),
        ({"scheduler": 3}, InvalidInputError, "scheduler"),
    ],
)
def test_bad_input(model, kwargs, error, match):
    args = {"tasks": [(Condition("x"), None)], "times": TIMES, **kwargs}
    with pytest.raises(error, match=match):
        run_batch(model, args.pop("tasks"), args.pop("times"), **args)


def test_non_finite_parameter_vector_is_refused(model):
    vec = ModelSimulator(model).parameter_vector("MCF-7")
    vec[0] = np.nan
    with pytest.raises(InvalidInputError, match="non-finite"):
        run_batch(model, [(Condition("x"), vec)], TIMES)


def test_dask_cluster_gives_identical_arrays(model, tasks, serial):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        via_client = run_batch(model, tasks, TIMES, scheduler=client)
        via_address = run_batch(model, tasks, TIMES, scheduler=cluster.scheduler_address)
    assert_array_equal(via_client.values, serial.values)
    assert_array_equal(via_address.values, serial.values)


def test_simulation_error_type_is_the_one_recorded(model, failing_tasks):
    # the failure is a SimulationError in the simulator itself (what the batch records)
    with pytest.raises(SimulationError):
        ModelSimulator(model).run(failing_tasks[1][0], TIMES, failing_tasks[1][1])
