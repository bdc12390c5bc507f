"""Command line used by the Snakemake rules, and by hand: one cell, one aggregate, one figure.

    widenet cell --config JSON --out data/<id>/cells/<cell>.nc [--dataset NAME=PATH] [--device auto]
    widenet aggregate --experiment ID --config JSON --out data/<id>.nc CELL.nc ...
    widenet plot data/<id>.nc --out figures/<id>.png figures/<id>.pdf
    widenet dataset --name NAME --spec JSON --out data/datasets/<name>.nc
    widenet cells ID [OVERRIDE ...]      list an experiment's cells under the composed config
    widenet config [OVERRIDE ...]        print the composed, validated config as YAML (Hydra's --cfg job)

Overrides are Hydra's: ``profile=paper``, ``experiment.ID.grid.width=[64,128]``; sweep syntax on a grid
axis (``experiment.ID.grid.width=64,128,256`` or ``range(16,65,16)``) is read as that list.
With ``WIDENET_WORKER=1`` (set by the local Snakemake rules) the job commands run in a warm worker
process (``widenet.worker``) instead of importing torch, xarray and matplotlib themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


def cmd_cell(args) -> None:
    from widenet import cells, store

    _threads(args.threads)
    datasets = dict(item.split("=", 1) for item in args.dataset)
    ds = cells.run_cell(json.loads(args.config), device=args.device, datasets=datasets, stage=args.stage)
    store.write(ds, args.out)
    where = f" (a fork of worker {os.getppid()})" if "WIDENET_WORKER_CHILD" in os.environ else ""
    print(f"wrote {args.out} in {ds.attrs['wall_time_s']:.2f} s on {ds.attrs['device']}{where}", file=sys.stderr)


def cmd_aggregate(args) -> None:
    from widenet import cells, store

    exp_cfg = json.loads(args.config)
    if exp_cfg["experiment"] != args.experiment:
        raise SystemExit(f"--experiment {args.experiment} does not match the config's {exp_cfg['experiment']}")
    ds = cells.aggregate(exp_cfg, args.cells)
    store.write(ds, args.out)
    print(ds.attrs["laws"] or "(no fitted laws)", file=sys.stderr)


def cmd_plot(args) -> None:
    from widenet import store
    from widenet.figures import style
    from widenet.registry import EXPERIMENTS

    ds = store.read(args.store)
    fig = EXPERIMENTS[ds.attrs["experiment"]].load("plot")(ds)
    style.save(fig, *args.out)


def cmd_dataset(args) -> None:
    from widenet import datasets, store

    store.write(datasets.make(args.name, json.loads(args.spec)), args.out)


def cmd_cells(args) -> None:
    from widenet import config

    cfg = config.compose(args.overrides)
    for key in config.cells(cfg, args.experiment):
        print(key)


def cmd_config(args) -> None:
    import yaml

    from widenet import config

    try:
        cfg = config.compose(args.overrides, conf_dir=args.conf_dir)
    except config.ConfigError as err:
        raise SystemExit(f"widenet config: {err}") from None
    print(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), end="")


JOB_COMMANDS = ("cell", "aggregate", "plot", "dataset")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in JOB_COMMANDS:
        from widenet import worker

        if worker.enabled():
            code = worker.run(argv)
            if code is not None:
                raise SystemExit(code)
    parser = argparse.ArgumentParser(prog="widenet", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("cell", help="compute one cell")
    p.add_argument("--config", required=True, help="the cell's resolved config as JSON")
    p.add_argument("--out", required=True)
    p.add_argument("--dataset", action="append", default=[], metavar="NAME=PATH")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--stage", choices=["compute", "train"], default="compute",
                   help="train: the experiment's training checkpoints (data/<id>/checkpoints/<cell>.nc)")
    p.set_defaults(func=cmd_cell)

    p = sub.add_parser("aggregate", help="combine cells into an experiment store")
    p.add_argument("--experiment", required=True)
    p.add_argument("--config", required=True, help="the experiment config (widenet.config.experiment_config) as JSON")
    p.add_argument("--out", required=True)
    p.add_argument("cells", nargs="+")
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("plot", help="render a store's figure")
    p.add_argument("store")
    p.add_argument("--out", nargs="+", required=True, help="output files (.png, .pdf)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("dataset", help="generate a shared dataset")
    p.add_argument("--name", required=True)
    p.add_argument("--spec", required=True, help="the dataset's config entry as JSON")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("cells", help="list an experiment's cells")
    p.add_argument("experiment")
    p.add_argument("overrides", nargs="*")
    p.set_defaults(func=cmd_cells)

    p = sub.add_parser("config", help="print the composed, validated config")
    p.add_argument("overrides", nargs="*")
    p.add_argument("--conf-dir", default=None, help="the Hydra config directory (default: ./conf)")
    p.set_defaults(func=cmd_config)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
