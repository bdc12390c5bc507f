"""B5 hessian-scaling and B6 taylor-remainder on reduced grids: cells (with the training stage where the
experiment has one), aggregate, the fitted laws, and the figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from widenet import cells, config, laws, store
from widenet.datasets import make
from widenet.figures import style
from widenet.registry import EXPERIMENTS

ROOT = Path(__file__).resolve().parents[1]


def _run(exp_id: str, tmp_path: Path, overrides: list[str]):
    """Every cell of ``exp_id`` in-process, its ``train`` stage first when it has one (as the rules chain)."""
    cfg = config.compose(overrides, conf_dir=ROOT / "conf")
    name = cfg["experiment"][exp_id]["settings"]["dataset"]
    datasets = {name: store.write(make(name, cfg["datasets"][name]), tmp_path / f"{name}.nc")}
    paths = []
    for key, cell in config.cells(cfg, exp_id).items():
        inputs = dict(datasets)
        if EXPERIMENTS[exp_id].train:
            trained = cells.run_cell(cell, device="cpu", datasets=datasets, stage="train")
            inputs["checkpoints"] = store.write(trained, tmp_path / "checkpoints" / f"{key}.nc")
        paths.append(store.write(cells.run_cell(cell, device="cpu", datasets=inputs), tmp_path / f"{key}.nc"))
    ds = cells.aggregate(config.experiment_config(cfg, exp_id), paths)
    style.save(EXPERIMENTS[exp_id].load("plot")(ds), tmp_path / f"{exp_id}.png")
    assert (tmp_path / f"{exp_id}.png").stat().st_size > 10_000
    return ds


def test_hessian_scaling_reduced_grid(tmp_path):
    ds = _run("hessian-scaling", tmp_path, [
        "experiment.hessian-scaling.grid.activation=[tanh]", "experiment.hessian-scaling.grid.depth=[1]",
        "experiment.hessian-scaling.grid.width=[32,64,128,256,512]", "experiment.hessian-scaling.settings.n_seeds=16",
        "experiment.hessian-scaling.settings.train_steps=100", "experiment.hessian-scaling.settings.checkpoint_steps=[0,100]",
    ])
    assert list(ds.step.values) == [0, 100] and ds.hessian_norm.dims[-3:] == ("seed", "step", "input")
    # Lanczos agrees with the exact block norms at every width, network, checkpoint and input
    assert laws.get(ds, "lanczos_vs_blocks_tanh").measured <= 1e-6
    slope = laws.get(ds, "slope_depth1_tanh")
    assert abs(slope.measured - slope.theory) <= 0.03 and -0.43 < slope.theory < -0.37  # not −½: √log m
    assert laws.get(ds, "gradient_ntk_tanh").measured < 0.1
    assert laws.get(ds, "trained_vs_init_tanh").measured < 0.1


def test_taylor_remainder_reduced_grid(tmp_path):
    ds = _run("taylor-remainder", tmp_path, [
        "experiment.taylor-remainder.grid.model=[network-1,assembly-sign]",
        "experiment.taylor-remainder.grid.width=[32,64,128,256,512]",
        "experiment.taylor-remainder.settings.n_seeds=3", "experiment.taylor-remainder.settings.n_directions=12",
    ])
    for model in ("network-1", "assembly-sign"):
        assert laws.get(ds, f"random_slope_{model}").measured == pytest.approx(-1.0, abs=0.15)
        assert laws.get(ds, f"radius_exponent_{model}").measured == pytest.approx(2.0, abs=0.05)
        assert -0.6 < laws.get(ds, f"worst_slope_{model}").measured < -0.3
    assert laws.get(ds, "identity_assembly-sign").measured < 1e-13
    assert laws.get(ds, "bound_holds_assembly-sign").measured <= 1.0  # eq. 5 holds for every draw
    # the worst direction is the top eigenvector: its remainder ≈ ½R²‖H‖ at the smallest R
    small = ds.radius.values.min()
    ratio = ds.worst_mean.sel(radius=small) / ds.half_r2_norm.sel(radius=small)
    assert float(abs(ratio - 1).max()) < 0.25


def test_relu_is_refused_at_validation_with_the_reason():
    with pytest.raises(config.ConfigError, match=r"hessian-scaling\.grid\.activation: relu is not allowed.*Dirac"):
        config.compose(["experiment.hessian-scaling.grid.activation=[tanh,relu]"], conf_dir=ROOT / "conf")


def test_gradient_orthogonality_reduced_grid(tmp_path):
    ds = _run("gradient-orthogonality", tmp_path, [
        "experiment.gradient-orthogonality.grid.width=[16,32,64,128]",
        "experiment.gradient-orthogonality.settings.outer_width=128", "experiment.gradient-orthogonality.settings.steps=100",
    ])
    assert "digits" in str(ds.image_source.values.ravel()[0])  # no CIFAR batches configured
    assert float(ds.final_loss.max()) < float(ds.initial_loss.min())  # the nets did train
    for layer in (2, 3):
        assert laws.get(ds, f"full_monotone_layer{layer}").ok
        assert laws.get(ds, f"full_slope_layer{layer}_init").measured == pytest.approx(-0.5, abs=0.15)
    limit = laws.get(ds, "full_layer2_constant")
    assert limit.measured == pytest.approx(limit.theory, rel=0.15)
    assert abs(laws.get(ds, "bottleneck_layer2_flat").measured) < 0.1  # set by m₁, not by m_b
    assert laws.get(ds, "bottleneck_layer3_slope").measured < -0.3


def test_two_class_images_use_cifar_batches_when_present(tmp_path):
    import pickle

    import numpy as np

    from widenet.datasets import two_class_images

    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 256, (50, 3072), dtype=np.uint8), b"labels": [0, 2, 5, 1, 3] * 10}
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch))
    ds = two_class_images(8, [0, 1], str(tmp_path))
    assert "CIFAR-10" in str(ds.image_source.values) and ds.x.shape == (8, 3072)
    assert list(ds.y.values) == [1.0] * 4 + [-1.0] * 4
    np.testing.assert_allclose((ds.x**2).sum("feature"), 3072.0)
    fallback = two_class_images(8, [3, 7], str(tmp_path / "missing"))
    assert "digits 3" in str(fallback.image_source.values) and fallback.x.shape == (8, 64)
