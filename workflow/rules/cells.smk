# One job per cell; an aggregate per experiment combines the cells and fits the laws.


rule cell:
    input:
        unpack(cell_datasets),
    output:
        "data/{exp}/cells/{cell}.nc",
    params:
        cfg=cell_config,
        datasets=dataset_args,
        device=CFG["device"],
    log:
        "logs/{exp}/cells/{cell}.log",
    threads: 1
    shell:
        "{WIDENET} cell --config {params.cfg:q} {params.datasets} --device {params.device}"
        " --threads {threads} --out {output} > {log} 2>&1"


rule aggregate:
    input:
        cell_files,
    output:
        "data/{exp}.nc",
    params:
        cfg=lambda w: json.dumps(wconfig.experiment_config(CFG, w.exp), sort_keys=True),
    log:
        "logs/{exp}/aggregate.log",
    shell:
        "{WIDENET} aggregate --experiment {wildcards.exp} --config {params.cfg:q}"
        " --out {output} {input} > {log} 2>&1"
