"""One plot function per experiment: ``plot(ds: xr.Dataset) -> matplotlib.figure.Figure``."""
