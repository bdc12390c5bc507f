# widenet: every figure of the catalogue (docs/experiments.md), from config to figure.
#   snakemake --cores 2                          quick profile, all active experiments
#   snakemake --cores 2 --config 'overrides=["profile=paper"]'
# Data flow: conf/ (Hydra) -> validated config -> cells -> data/<id>/cells/<cell>.nc
#            -> data/<id>.nc (aggregate, fitted laws) -> figures/<id>.png/.pdf
# Execution: locally each job is a fork of a warm worker (widenet.worker, no per-job imports);
# profiles/slurm groups cells into sbatch jobs. After a crash: snakemake --unlock && snakemake --cores 2

from snakemake.utils import min_version

min_version("9.0")


configfile: "workflow/snakemake-config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/cells.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/figures.smk"


# Cheap rules run where Snakemake runs, also under a cluster executor.
localrules:
    all,
    aggregate,
    figure,
    dataset,


onstart:
    for path in stale_temp_files():
        path.unlink(missing_ok=True)
        print(f"removed {path}, left by a killed job", file=sys.stderr)


rule all:
    input:
        all_figures(),
    default_target: True
