# Figures are rendered from the store alone; they also depend on the plotting code, so that
# changing a plot function reruns only figure rules.


rule figure:
    input:
        store="data/{exp}.nc",
        code=lambda w: EXPERIMENTS[w.exp].plot_module_files(),
    output:
        png=report(
            "figures/{exp}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"experiment": "{exp}"},
        ),
        pdf="figures/{exp}.pdf",
    params:
        widenet=WIDENET,
        caption=lambda w: laws_caption(f"data/{w.exp}.nc"),
    conda:
        ENV
    log:
        "logs/{exp}/figure.log",
    shell:
        "{params.widenet} plot {input.store} --out {output.png} {output.pdf} > {log} 2>&1"
