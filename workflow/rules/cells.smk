# One job per cell; an aggregate per experiment combines the cells and fits the laws.


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
