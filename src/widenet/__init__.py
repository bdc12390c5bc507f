"""widenet: reproducible experiments on wide neural networks.

Public modules: ``models`` (MLP), ``activations``, ``kernels`` (infinite-width NNGP/NTK),
``tangents`` (empirical NTK), ``sampling`` (random-network outputs), ``finite_width``
(deep-linear law, fourth cumulant), ``regions`` (exact ReLU
linear regions). Pipeline plumbing: ``config``, ``registry``, ``store``, ``laws``, ``cli``.
"""

__version__ = "0.1.0"
