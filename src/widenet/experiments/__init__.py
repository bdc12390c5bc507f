"""One ``compute(cell) -> xr.Dataset`` per experiment (plus optional ``summarize_<id>``), by family."""
