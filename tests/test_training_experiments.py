"""B1–B4 on their quick (or reduced) grids: the cells, the aggregate, the laws checked numerically, the figure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import ROOT, run_experiment
from widenet import laws, store
from widenet.experiments.pz_figure_11_3 import init_std
from widenet.figures import style
from widenet.registry import EXPERIMENTS


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("training-experiments")


def _render(exp_id, ds, workdir):
    path = store.write(ds, workdir / f"{exp_id}.nc")
    style.save(EXPERIMENTS[exp_id].load("plot")(store.read(path)), workdir / f"{exp_id}.png")
    assert (workdir / f"{exp_id}.png").stat().st_size > 10_000


def test_implicit_bias_quick(workdir):
    ds = run_experiment("implicit-bias", workdir)
    # eq. 1.3.6 to rounding; the null-space component never moves
    assert float(ds.closed_form_gap.max()) < 1e-12
    assert float(ds.null_drift.max()) < 1e-12
    assert np.allclose(ds.null_component, ds.null_init.broadcast_like(ds.null_component), rtol=1e-12)
    # the rate (1 − 2h s_min²)^k: the late per-step factor, and the whole curve stays under ‖e₀‖·rate^k
    assert laws.get(ds, "rate").ok
    bound = ds.distance_to_limit.isel(step=0) * ds.rate_theory
    assert bool((ds.distance_to_limit <= bound * (1 + 1e-9)).all())
    assert float(ds.min_norm_gap) < 1e-8  # from w₀ = 0: the min-norm solution
    assert float(ds.ridge_gd_gap.max()) < 1e-8 and laws.get(ds, "ridge_slope").measured == pytest.approx(1.0, abs=0.05)
    below, above = ds.stability_distance.isel(h_times_smax2=0), ds.stability_distance.isel(h_times_smax2=1)
    assert float(below[-1]) < float(below[0]) and float(above[-1]) > 1e6 * float(above[0])
    assert all(law.ok for law in laws.read(ds))
    _render("implicit-bias", ds, workdir)


def test_pz_figure_11_3_quick(workdir):
    ds = run_experiment("pz-figure-11-3", workdir)
    assert ds.train_residual.dims == ("draw", "sample") and ds.train_residual.shape == (80, 3)
    assert float(abs(ds.train_residual).max()) <= 1e-6  # every draw interpolates with the mean loss
    assert int((ds.diverged_at >= 0).sum()) == 0
    # the literal Σ(Φ − y)² at h = 1/n fails for every draw: λ_max(K̂)/n > 1 (2h·λ_max(2K̂) > 2)
    assert float(ds.ntk_max_over_width.min()) > 1.0
    assert laws.get(ds, "literal_loss_fails").measured == 80
    # std Φ(x) at init against √(3E[arctan²(N(0, 3x² + 2))] + 2), 4 standard errors
    assert laws.get(ds, "init_std").ok
    assert init_std(np.array([0.0]), 3.0, 2.0)[0] == pytest.approx(
        math.sqrt(3 * np.mean(np.arctan(np.sqrt(2) * np.random.default_rng(0).standard_normal(400_000)) ** 2) + 2), rel=2e-3)
    _render("pz-figure-11-3", ds, workdir)


def test_regimes_quick(workdir):
    ds = run_experiment("regimes", workdir)
    for var in ("w1_rel_change", "preact_rms_change"):
        assert laws.get(ds, f"{var}_ntk").measured == pytest.approx(-0.5, abs=0.1)
        assert abs(laws.get(ds, f"{var}_meanfield").measured) <= 0.1
    # the max change carries a √log(nN) factor: flatter than −½ (about −0.38 in the catalogue)
    assert -0.5 < float(ds.preact_max_change_slope_ntk) < -0.25
    assert float((ds.final_loss / ds.initial_loss).max()) < 1e-2 and int((ds.diverged_at >= 0).sum()) == 0
    # mean field moves every neuron by O(1); the lazy regime by O(N^(-1/2)) at the largest width
    widest = ds.preact_rms_change_mean.sel(width=ds.width.max())
    assert float(widest.sel(regime="meanfield")) > 10 * float(widest.sel(regime="ntk"))
    _render("regimes", ds, workdir)


REDUCED_B3 = ["experiment.linearization.grid.width=[64,128,256,512]", "experiment.linearization.dtype=float64"]


def test_linearization_reduced(workdir):
    """Widths 64 … 512, depths 1–2, float64 (so the kernel-power identity is checked to 1e-10)."""
    ds = run_experiment("linearization", workdir, REDUCED_B3)
    assert float(ds.linear_residual_error.max()) < 1e-10  # r_k^lin = (I − c·h·K̂₀)^k r₀ on train inputs
    assert float(ds.stability.max()) < 2 and not bool(ds.diverged.any())
    slope = ds.slope
    for depth in (1, 2):
        erf = slope.sel(activation="erf", depth=depth)
        assert -1.3 < float(erf.sel(metric="ntk_change")) < -0.7  # n^(−1) for smooth σ, not the bound's n^(−1/2)
        assert float(erf.sel(metric="output_gap")) < -0.4
        assert abs(float(erf.sel(metric="param_move"))) < 0.15  # ‖θ_T − θ₀‖ = O(1) under ntk ...
        assert float(erf.sel(metric="relative_move")) == pytest.approx(-0.5 if depth == 1 else -1.0, abs=0.15)  # ... ‖θ₀‖ grows
        for act in ("relu", "erf"):  # standard init, h ∝ 1/n: ‖θ_T − θ₀‖ ∝ n^(−1/2) (Petersen–Zech Thm 11.23)
            assert float(slope.sel(metric="standard_move", activation=act, depth=depth)) == pytest.approx(-0.5, abs=0.15)
    # §11.6 at depth 1: the readout carries the movement under standard init, not under ntk
    assert laws.get(ds, "layer_ratio_standard_erf").measured == pytest.approx(-0.5, abs=0.2)
    assert abs(laws.get(ds, "layer_ratio_ntk_erf").measured) < 0.2
    # depth 2, standard init: the hidden-to-hidden layer moves as much as the readout (the text's statement
    # is a depth-1 fact), while the input layer's share still falls like n^(−1/2)
    move = ds.layer_move.sel(depth=2, init="standard").mean("seed")
    hidden_share = move.sel(layer="hidden") / move.sel(layer="readout")
    assert bool(((hidden_share > 0.5) & (hidden_share < 2)).all())
    input_share = move.sel(layer="input") / move.sel(layer="readout")
    assert laws.loglog_slope(input_share.width, input_share.sel(activation="erf"))[0] == pytest.approx(-0.5, abs=0.2)
    _render("linearization", ds, workdir)


def test_training_checkpoints_are_a_rule_input(workdir, workflow):
    """The `train` stage writes checkpoints that load back into the same MLP and parameters; the DAG
    runs one `train` job per cell of an experiment that names a train function, before its `cell` job."""
    import torch

    from widenet import cells, config, datasets, models, training

    cfg = config.compose(["experiment.hessian-scaling.grid.width=[16]", "experiment.hessian-scaling.grid.depth=[1]",
                          "experiment.hessian-scaling.grid.activation=[tanh]"], conf_dir=ROOT / "conf")
    (key, cell_cfg), = config.cells(cfg, "hessian-scaling").items()
    name = cell_cfg["params"]["dataset"]
    data = store.write(datasets.make(name, cfg["datasets"][name]), workdir / f"{name}.nc")
    ds = cells.run_cell(cell_cfg, device="cpu", datasets={name: data}, stage="train")
    model, params, steps = training.load_checkpoints(store.read(store.write(ds, workdir / "checkpoints.nc")))
    assert steps[0] == 0 and steps[-1] == cell_cfg["params"]["train_steps"]
    assert params["weight0"].shape == (cell_cfg["params"]["n_seeds"], len(steps), 16, 10)
    x = torch.as_tensor(store.read(data).x.values)
    recorded = torch.as_tensor(ds.checkpoint_outputs.values).squeeze()  # (seed, checkpoint_step, sample)
    assert torch.allclose(models.outputs(model, params, x), recorded, atol=1e-12)
    with pytest.raises(ValueError, match="stage"):
        cells.run_cell(config.cells(cfg, "implicit-bias")["n_features-64"], device="cpu", stage="train")
    planned = workflow.scheduled_outputs(overrides=["experiments=[hessian-scaling]", *[
        f"experiment.hessian-scaling.grid.{k}={v}" for k, v in (("width", "[16]"), ("depth", "[1]"), ("activation", "[tanh]"))]])
    assert f"data/hessian-scaling/checkpoints/{key}.nc" in planned and f"data/hessian-scaling/cells/{key}.nc" in planned


def test_unstable_step_is_reported_not_hidden(workdir):
    """lr_ntk = 1 puts c·h·λ_max(K̂₀) near 3.7 at depth 1: the networks diverge, the cell goes on, the store
    flags the first width as unstable, the stability and divergence laws fail, and the figure still renders."""
    ds = run_experiment("linearization", workdir / "unstable", [
        "experiment.linearization.grid.width=[64,128]", "experiment.linearization.grid.depth=[1]",
        "experiment.linearization.settings.lr_ntk=1.0", "experiment.linearization.settings.activations=[erf]"])
    assert bool(ds.unstable_at_first_width.sel(depth=1, init="ntk", activation="erf"))
    assert not bool(ds.unstable_at_first_width.sel(depth=1, init="standard", activation="erf"))
    assert bool(ds.diverged.sel(init="ntk").all()) and not bool(ds.diverged.sel(init="standard").any())
    assert not laws.get(ds, "stable").ok and not laws.get(ds, "diverged").ok
    assert not any(law.ok for law in laws.read(ds) if law.name.endswith("erf_L1") and not law.name.startswith("standard"))
    _render("linearization", ds, workdir / "unstable")
