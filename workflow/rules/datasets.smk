# Shared inputs (input sets, training data): generated once, consumed by the cells that name them.


rule dataset:
    output:
        "data/datasets/{name}.nc",
    params:
        spec=lambda w: json.dumps(CFG["datasets"][w.name], sort_keys=True),
    log:
        "logs/datasets/{name}.log",
    shell:
        "{WIDENET} dataset --name {wildcards.name} --spec {params.spec:q} --out {output} > {log} 2>&1"
