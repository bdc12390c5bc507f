# Training checkpoints: for an experiment with a `train` function (widenet.registry), each cell is
# trained once by this rule; its `cell` job reads the checkpoints as the dataset named `checkpoints`
# (common.smk, cell_datasets), so changing the measurement reruns only the measurement.


rule train:
    input:
        unpack(train_datasets),
    output:
        "data/{exp}/checkpoints/{cell}.nc",
    params:
        widenet=WIDENET,
        cfg=cell_config,
        datasets=dataset_args,
        device=DEVICE,
    conda:
        ENV
    log:
        "logs/{exp}/checkpoints/{cell}.log",
    threads: 1
    resources:
        mem_mb=lambda w, attempt: cell_resources(w, attempt)["mem_mb"],
        runtime=lambda w, attempt: cell_resources(w, attempt)["runtime"],
        gpu=cell_gpus,
    group:
        "cells"
    shell:
        "{params.widenet} cell --stage train --config {params.cfg:q} {params.datasets} --device {params.device}"
        " --threads {threads} --out {output} > {log} 2>&1"
