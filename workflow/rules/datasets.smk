# Shared inputs (input sets, training data): generated once, consumed by the cells that name them.


rule dataset:
    output:
        "data/datasets/{name}.nc",
    params:
        widenet=WIDENET,
        spec=lambda w: json.dumps(CFG["datasets"][w.name], sort_keys=True),
    conda:
        ENV
    log:
        "logs/datasets/{name}.log",
    shell:
        "{params.widenet} dataset --name {wildcards.name} --spec {params.spec:q} --out {output} > {log} 2>&1"
