# One job per cell (one store per cell: adding a width computes only the new cells); an aggregate
# per experiment combines the cells and fits the laws. Locally every job is a fork of the warm
# worker (widenet.worker), so a cell costs its compute, not an interpreter start. On a cluster the
# `cells` group packs cells into one submission each (--group-components in profiles/slurm), and
# every cell asks for what widenet.resources estimates from its params.


rule cell:
    input:
        unpack(cell_datasets),
    output:
        "data/{exp}/cells/{cell}.nc",
    params:
        widenet=WIDENET,
        cfg=cell_config,
        datasets=dataset_args,
        device=DEVICE,
    conda:
        ENV
    log:
        "logs/{exp}/cells/{cell}.log",
    threads: 1
    resources:
        mem_mb=lambda w, attempt: cell_resources(w, attempt)["mem_mb"],
        runtime=lambda w, attempt: cell_resources(w, attempt)["runtime"],
        gpu=cell_gpus,
    group:
        "cells"
    shell:
        "{params.widenet} cell --config {params.cfg:q} {params.datasets} --device {params.device}"
        " --threads {threads} --out {output} > {log} 2>&1"


rule aggregate:
    input:
        cell_files,
    output:
        "data/{exp}.nc",
    params:
        widenet=WIDENET,
        cfg=lambda w: json.dumps(wconfig.experiment_config(CFG, w.exp), sort_keys=True),
    conda:
        ENV
    log:
        "logs/{exp}/aggregate.log",
    shell:
        "{params.widenet} aggregate --experiment {wildcards.exp} --config {params.cfg:q}"
        " --out {output} {input} > {log} 2>&1"
