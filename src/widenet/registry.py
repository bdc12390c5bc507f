"""The experiment catalogue (docs/experiments.md) as code: one ``Experiment`` per figure.

This module is torch-free so that the Snakefile can read it fast. An experiment names
- ``compute``: ``"module:function"``, ``function(cell: widenet.cells.Cell) -> xr.Dataset`` for one cell;
- ``summarize`` (optional): ``function(ds, config) -> xr.Dataset`` run on the aggregated store
  to add derived variables and fitted laws (``widenet.laws``);
- ``plot``: ``function(ds) -> matplotlib.figure.Figure``, reading only the store;
- the JSON schemas of its ``settings`` (fixed values, inner axes) and ``grid`` (outer axes: one
  cell per combination). A setting called ``dataset`` names an entry of the config's ``datasets``.

To add an experiment: an entry here, ``conf/experiment/<id>.yaml``, its grid in both profiles,
and the three functions (see README, "Adding an experiment").
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from widenet.schema import (
    ACTIVATIONS,
    PARAMETERIZATIONS,
    axis,
    choice,
    int_list,
    number,
    pos_int,
    string,
)


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    source: str
    compute: str
    plot: str | None = None  # default: widenet.figures.<id with underscores>:plot
    settings: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    summarize: str | None = None
    cpu_only: bool = False  # numerics that run on the CPU whatever the configured device
    # optional "module:function", fn(cell) -> xr.Dataset of training checkpoints, run by the `train`
    # rule into data/<id>/checkpoints/<cell>.nc; the cell's compute reads it as cell.datasets["checkpoints"]
    train: str | None = None
    # torch-free cross-field check of the experiment's config (settings, grid): None when fine, else
    # "<key>: <what is wrong and why>"; config.validate raises it as a ConfigError before any job runs
    check: Callable[[dict], str | None] | None = None

    def __post_init__(self):
        if self.plot is None:
            object.__setattr__(self, "plot", f"widenet.figures.{self.id.replace('-', '_')}:plot")

    def load(self, what: str) -> Callable:
        """Import and return the ``compute``, ``summarize`` or ``plot`` function."""
        target = getattr(self, what)
        module, name = target.split(":")
        return getattr(importlib.import_module(module), name)

    def plot_module_files(self) -> list[str]:
        """Source files of the plotting code: the plot module and the ``widenet.figures`` modules it
        imports (e.g. ``style``), found without importing them. Figure rules depend on these, cells do not."""
        return [importlib.util.find_spec(name).origin for name in figure_modules(self.plot.split(":")[0])]


def figure_modules(module: str) -> list[str]:
    """``module`` and, transitively, every ``widenet.figures`` module its source imports (read with ``ast``)."""
    seen, todo = [], [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ValueError(f"figure module {name!r} not found (imported by {module!r} or named by an experiment's plot)")
        tree = ast.parse(Path(spec.origin).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "widenet.figures":
                todo += [f"widenet.figures.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("widenet.figures."):
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("widenet.figures.")]
    return seen


# settings shared by the random-network ensembles of A7 gp-limit and A8 fourth-cumulant
RANDOM_NETWORKS = {
    "depths": axis(pos_int()),  # inner axis
    "activations": axis(choice([a for a in ACTIVATIONS if a != "shaped_tanh"])),  # inner axis
    "input_dim": {"type": "integer", "minimum": 2},  # d: first-layer variance C_W/d
    "n_boot": {"type": "integer", "minimum": 2},  # bootstrap resamples
}

EXPERIMENTS: dict[str, Experiment] = {
    e.id: e
    for e in [
        Experiment(
            id="nngp-depth",
            title="Infinite-width NNGP kernel flattens with depth",
            source="004 Pleiss Figure 1; 001 Hanin §3.3.3 (eqs. 3.3.5–3.3.7)",
            compute="widenet.experiments.kernels:nngp_depth",
            summarize="widenet.experiments.kernels:summarize_nngp_depth",
            settings={
                "n_angles": pos_int(),
                "max_depth": pos_int(),
                "show_depths": int_list(),
                "shaped_depth": pos_int(),
                "psi": number(),
                "quadrature_nodes": pos_int(),
            },
            grid={"activation": axis(choice(ACTIVATIONS))},
        ),
        Experiment(
            id="random-features-kernel",
            title="Random-features kernel converges to the arc-cosine kernel",
            source="004 Pleiss Theorem 1; 003 Petersen–Zech Theorem 11.16, Example 11.17",
            compute="widenet.experiments.kernels:random_features_kernel",
            summarize="widenet.experiments.kernels:summarize_random_features_kernel",
            settings={
                "n_angles": pos_int(),
                "n_seeds": pos_int(),
                "input_dim": pos_int(),
                "show_features": int_list(),
                "spectrum_points": pos_int(),
                "spectrum_dim": pos_int(),
            },
            grid={"n_features": axis(pos_int())},
        ),
        Experiment(
            id="ntk-convergence",
            title="Empirical NTK converges to the analytic limit at rate n^(-1/2)",
            source="003 Petersen–Zech Theorems 11.16, 11.30, Examples 11.17, 11.31; 000 Amari eqs. 33, 60; "
            "001 Hanin eq. 2.1.10",
            compute="widenet.experiments.kernels:ntk_convergence",
            summarize="widenet.experiments.kernels:summarize_ntk_convergence",
            settings={
                "dataset": string(),
                "n_seeds": pos_int(),
                "activations": axis(choice(["relu", "erf"])),
                "parameterizations": axis(choice(PARAMETERIZATIONS[:2])),
                "weight_std": number(0.0, exclusive=True),
                "bias_std": number(0.0),
            },
            grid={"depth": axis(pos_int()), "width": axis(pos_int())},
        ),
        Experiment(
            id="sphere-projection",
            title="Projecting the uniform sphere onto a low-dimensional subspace gives N(0, I/p)",
            source="000 Amari §4, Theorem 2",
            compute="widenet.experiments.initialization:sphere_projection",
            summarize="widenet.experiments.initialization:summarize_sphere_projection",
            settings={"n_points": pos_int(), "subspace_dims": int_list()},
            grid={"p": axis(pos_int())},
        ),
        Experiment(
            id="deep-linear",
            title="Deep linear networks: log‖z‖ is a sum of L + 1 independent ½·log(χ²_N/N)",
            source="001 Hanin §3.2, eq. 3.2.3",
            compute="widenet.experiments.initialization:deep_linear",
            summarize="widenet.experiments.initialization:summarize_deep_linear",
            settings={
                "n_networks": pos_int(),
                "depths": axis({"type": "integer", "minimum": 0}),  # inner axis
            },
            grid={"width": axis(pos_int())},
        ),
        Experiment(
            id="gp-limit",
            title="Random networks converge to the NNGP Gaussian process as width grows",
            source="001 Hanin Theorem 3.3.1; 003 Petersen–Zech Proposition 11.28",
            compute="widenet.experiments.initialization:gp_limit",
            summarize="widenet.experiments.initialization:summarize_gp_limit",
            settings={
                "n_networks": pos_int(),
                **RANDOM_NETWORKS,
                "angles_deg": {"type": "array", "items": number(), "minItems": 2},
                "n_scatter": pos_int(),
                "scatter_widths": int_list(),
            },
            grid={"width": axis(pos_int())},
        ),
        Experiment(
            id="fourth-cumulant",
            title="The fourth cumulant of the output grows like depth/width: κ₄/K² ≈ 5L/N for relu",
            source="001 Hanin Theorem 3.4.1",
            compute="widenet.experiments.initialization:fourth_cumulant",
            summarize="widenet.experiments.initialization:summarize_fourth_cumulant",
            settings={
                "n_networks": {"type": "integer", "minimum": 2},
                **RANDOM_NETWORKS,
                "fit_max_ratio": number(0.0, exclusive=True),
            },
            grid={"width": axis(pos_int())},
        ),
        Experiment(
            id="min-norm-distance",
            title="The min-norm step from a random network to an interpolant shrinks like p^(-1/2)",
            source="000 Amari §3, §5, §6, Theorem 1, Remark 2 (eqs. 16–75)",
            compute="widenet.experiments.min_norm:min_norm_distance",
            summarize="widenet.experiments.min_norm:summarize_min_norm_distance",
            settings={
                "cases": axis(choice(["features", "shallow", "deep2", "deep3"])),
                "activations": axis(choice(ACTIVATIONS)),
                "n_seeds": pos_int(),
                "kernel_seeds": pos_int(),
                "n_inputs": axis(pos_int()),
                "input_dim": pos_int(),
                "weight_std": number(0.0, exclusive=True),
                "bias_std": number(0.0),
                "data_seed": {"type": "integer"},
                "kernel_n": pos_int(),
                "fit_n": pos_int(),
                "fit_min_width": pos_int(),
            },
            grid={"width": axis(pos_int())},
        ),
        Experiment(
            id="regions",
            title="Exact ReLU region counting: regions and nodal volume per unit volume grow with the number of neurons, not depth",
            source="001 Hanin §4 (Figure 4.1, Theorems 4.2.1, 4.2.2); Hanin & Rolnick 2019",
            compute="widenet.experiments.regions:regions",
            summarize="widenet.experiments.regions:summarize_regions",
            settings={
                "activation": choice(["relu"]),  # linear regions exist for piecewise-linear nets only
                "depths": axis(pos_int()),  # inner axis
                "n_seeds": pos_int(),  # inner axis
                "min_width": pos_int(),
                "fit_min_width": pos_int(),
                "half_width": number(0.0, exclusive=True),
                "n_segments": pos_int(),
                "segment_length": number(0.0, exclusive=True),
                "grid_resolutions": axis({"type": "integer", "minimum": 2}),  # inner axis
                "example_neurons": pos_int(),
                "example_depths": axis(pos_int()),
                "example_half_width": number(0.0, exclusive=True),
            },
            grid={"input_dim": axis({"type": "integer", "minimum": 2}), "neurons": axis(pos_int())},
            cpu_only=True,  # exact float64 polygon geometry: widenet.regions runs on the CPU
        ),
    ]
}

def _twice_differentiable(exp: dict) -> str | None:
    """Second derivatives of relu do not exist (σ'' is a Dirac mass at 0): autograd's Hessian drops those
    terms, so it neither is the Hessian across kinks nor bounds the Taylor remainder of eq. 1."""
    if "relu" in exp["grid"]["activation"]:
        return ("grid.activation: relu is not allowed: the output Hessian needs σ'' and relu's is a Dirac mass "
                "at 0 (zero almost everywhere), so ‖∇²f‖ would miss the curvature at the kinks; "
                f"allowed: {', '.join(a for a in ACTIVATIONS if a != 'relu')}")
    return None


CURVATURE_EXPERIMENTS = [
    Experiment(
        id="hessian-scaling",
        title="The output Hessian vanishes like width^(-1/2) (up to an extreme-value √log m) while ‖∇f‖² → Θ(x, x)",
        source="002 Liu–Zhu–Belkin eq. 1, Theorem 4; 001 Hanin §2.2 (eq. 2.2.7)",
        compute="widenet.experiments.hessian_scaling:hessian_scaling",
        summarize="widenet.experiments.hessian_scaling:summarize_hessian_scaling",
        plot="widenet.figures.hessian_scaling:plot",
        train="widenet.experiments.hessian_scaling:train",  # the GD path (training family's engine): checkpoints are rule inputs
        settings={
            "dataset": string(),
            "n_seeds": pos_int(),
            "bias_std": number(0.0),
            "tol": number(0.0, exclusive=True),
            "max_parameters": pos_int(),
            "train_steps": pos_int(),
            "train_lr": number(0.0, exclusive=True),
            "train_loss": choice(["sum", "half_sum", "mean"]),
            "checkpoint_steps": int_list(0),
        },
        grid={"activation": axis(choice(ACTIVATIONS)), "depth": axis(pos_int()), "width": axis(pos_int())},
        check=_twice_differentiable,
    ),
    Experiment(
        id="taylor-remainder",
        title="The quadratic Taylor term vanishes with width: like m^(-1) along random directions, m^(-1/2) along the worst",
        source="002 Liu–Zhu–Belkin §2 (eqs. 4–5, Theorem 1, Corollary 1), Appendix A, Theorem 4",
        compute="widenet.experiments.taylor_remainder:taylor_remainder",
        summarize="widenet.experiments.taylor_remainder:summarize_taylor_remainder",
        plot="widenet.figures.taylor_remainder:plot",
        settings={
            "dataset": string(),
            "n_seeds": pos_int(),
            "n_directions": pos_int(),
            "radii": axis(number(0.0, exclusive=True)),  # inner axis
            "bias_std": number(0.0),
            "sub_width": pos_int(),
            "tol": number(0.0, exclusive=True),
        },
        grid={"model": axis(choice(["network-1", "network-2", "assembly-sign", "assembly-gaussian"])),
              "width": axis(pos_int())},
    ),
    Experiment(
        id="gradient-orthogonality",
        title="Neuron gradients of a layer become orthogonal as the layer below widens (layer 1: exactly)",
        source="002 Liu–Zhu–Belkin Theorem 3, eqs. 11–14, 22, Appendix B, Figure 3",
        compute="widenet.experiments.gradient_orthogonality:gradient_orthogonality",
        summarize="widenet.experiments.gradient_orthogonality:summarize_gradient_orthogonality",
        plot="widenet.figures.gradient_orthogonality:plot",
        settings={
            "dataset": string(),
            "n_seeds": {"type": "integer", "minimum": 2},
            "activation": choice(ACTIVATIONS),
            "outer_width": pos_int(),  # m₁ = m₃ of the bottleneck net
            "lr": number(0.0, exclusive=True),
            "steps": pos_int(),
        },
        grid={"network": axis(choice(["full", "bottleneck"])), "width": axis(pos_int())},
    ),
]
EXPERIMENTS.update({e.id: e for e in CURVATURE_EXPERIMENTS})

TRAINING_EXPERIMENTS = [  # the training family (widenet.training): B1–B4
    Experiment(
        id="implicit-bias",
        title="GD on over-parameterized least squares converges to the min-norm solution plus the untouched null-space part of w₀",
        source="001 Hanin §1.3.2 (eqs. 1.3.5–1.3.7); 003 Petersen–Zech Theorem 11.3, Remark 11.4; 000 Amari Remark 1",
        compute="widenet.experiments.implicit_bias:implicit_bias",
        summarize="widenet.experiments.implicit_bias:summarize_implicit_bias",
        settings={
            "dataset": string(),
            "init_std": number(0.0, exclusive=True),
            "n_random_inits": pos_int(),
            "lr_times_smax2": number(0.0, exclusive=True),
            "steps": pos_int(),
            "record_every": pos_int(),
            "ridge_lambdas": axis(number(0.0, exclusive=True)),  # inner axis
            "ridge_steps": pos_int(),
            "stability_margin": number(0.0, exclusive=True),
            "stability_steps": pos_int(),
        },
        grid={"n_features": axis(pos_int())},
    ),
    Experiment(
        id="pz-figure-11-3",
        title="Random arctan networks before and after GD: a Gaussian process at init, interpolants after",
        source="003 Petersen–Zech Figure 11.3, eq. 11.5.1 with init 11.5.11",
        compute="widenet.experiments.pz_figure_11_3:pz_figure_11_3",
        summarize="widenet.experiments.pz_figure_11_3:summarize_pz_figure_11_3",
        settings={
            "dataset": string(),
            "weight_var": number(0.0, exclusive=True),
            "bias_var": number(0.0),
            "n_draws": pos_int(),
            "steps": pos_int(),
            "loss": choice(["sum", "half_sum", "mean"]),
            "lr_times_width": number(0.0, exclusive=True),
            "x_max": number(0.0, exclusive=True),
            "n_grid": {"type": "integer", "minimum": 2},
            "n_std_draws": {"type": "integer", "minimum": 2},
            "std_at": axis(number()),
        },
        grid={"width": axis(pos_int())},
    ),
    Experiment(
        id="regimes",
        title="Lazy (NTK) training moves first-layer weights by N^(-1/2); mean-field training moves them by O(1)",
        source="001 Hanin §2.1–2.4 (eqs. 2.1.1, 2.1.11, 2.3.1, 2.3.6–2.3.8)",
        compute="widenet.experiments.regimes:regimes",
        summarize="widenet.experiments.regimes:summarize_regimes",
        settings={
            "dataset": string(),
            "activation": choice(ACTIVATIONS),
            "n_seeds": pos_int(),
            "steps": pos_int(),
            "loss": choice(["sum", "half_sum", "mean"]),
            "show_neurons": pos_int(),
        },
        grid={"width": axis(pos_int())},
    ),
    Experiment(
        id="linearization",
        title="A wide network trains like its linearization: kernel, outputs and parameters stay close",
        source="001 Hanin Theorem 2.2.1; 003 Petersen–Zech §11.5.4 (Theorem 11.23, Propositions 11.25, 11.26), §11.6; "
               "Lee et al. 2019",
        compute="widenet.experiments.linearization:linearization",
        summarize="widenet.experiments.linearization:summarize_linearization",
        settings={
            "dataset": string(),
            "inits": axis(choice(PARAMETERIZATIONS[:2])),  # inner axis
            "activations": axis(choice(ACTIVATIONS)),  # inner axis
            "n_seeds": pos_int(),
            "steps": pos_int(),
            "loss": choice(["sum", "half_sum", "mean"]),
            "lr_ntk": number(0.0, exclusive=True),
            "lr_standard_times_width": number(0.0, exclusive=True),
            "bias_std": number(0.0),
            "record_every": pos_int(),
            "checkpoint_every": pos_int(),
        },
        grid={"depth": axis(pos_int()), "width": axis(pos_int())},
    ),
]
EXPERIMENTS.update({e.id: e for e in TRAINING_EXPERIMENTS})

DATASET_KINDS = {
    "sphere": {"n": pos_int(), "dim": pos_int(), "seed": {"type": "integer"}},
    # training sets (widenet.datasets.sphere_teacher, .points): inputs with targets
    "sphere-teacher": {"n": pos_int(), "n_test": pos_int(), "dim": pos_int(), "frequency": number(0.0, exclusive=True),
                       "seed": {"type": "integer"}},
    "points": {"x": {"type": "array", "items": number(), "minItems": 1},
               "y": {"type": "array", "items": number(), "minItems": 1}},
    # two-class images (widenet.datasets.two_class_images): CIFAR-10 airplane/bird when cifar_path holds
    # the python batches, else scikit-learn's bundled digits of `classes`
    "digits": {"n": {"type": "integer", "minimum": 2, "multipleOf": 2},
               "classes": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "minItems": 2, "maxItems": 2},
               "cifar_path": string()},
}
