"""Curvature of models by Hessian-vector products: output and loss Hessians, Lanczos, Taylor terms.

Everything here works on a parameter dict (``named_parameters`` of any ``torch.nn.Module``, optionally with
a leading ensemble dimension) and never forms a P × P matrix, except the ``dense`` validation paths:

- ``output``: ``hvp`` (H_i v with H_i = ∇²_θ f(θ; x_i), the Hessian of the scalar output, Liu–Zhu–Belkin
  eq. 1; closed form for ``MLP``, ``torch.func`` forward-over-reverse for any module),
  ``output_hessian_norm`` / ``output_hessian_eigenpairs`` (batched Lanczos), ``dense_output_hessian``.
- ``lanczos``: the batched Lanczos solver and its stated tolerance.
- ``loss``: ``loss_hessian_eigenvalues`` (top k), ``loss_hessian_trace`` (Hutchinson),
  ``loss_hessian_density`` (stochastic Lanczos quadrature) for any module and loss.
- ``orthogonality``: ``gradient_orthogonality`` and ``neuron_gradient_gram`` (eq. 22, Theorem 3).
- ``single_layer``: the exact ‖H‖ of a one-hidden-layer net and its finite-width expectation (B5's law).
- ``assembly``: ``taylor_remainder`` and ``AssemblyModel`` (eqs. 4–5, Theorem 1).
"""

from widenet.curvature._common import DENSE_MAX_PARAMS, METHODS, as_params, check_twice_differentiable
from widenet.curvature.assembly import AssemblyModel, taylor_remainder
from widenet.curvature.lanczos import LanczosResult, lanczos
from widenet.curvature.loss import (SpectralDensity, TraceEstimate, loss_hessian_density, loss_hessian_eigenvalues,
                                    loss_hessian_trace)
from widenet.curvature.orthogonality import gradient_orthogonality, neuron_gradient_gram
from widenet.curvature.output import dense_output_hessian, hvp, output_hessian_eigenpairs, output_hessian_norm
from widenet.curvature.single_layer import expected_single_layer_hessian_norm, single_layer_hessian_norm

__all__ = [
    "DENSE_MAX_PARAMS", "METHODS", "AssemblyModel", "LanczosResult", "SpectralDensity", "TraceEstimate", "as_params",
    "check_twice_differentiable", "dense_output_hessian", "expected_single_layer_hessian_norm", "gradient_orthogonality",
    "hvp", "lanczos", "loss_hessian_density", "loss_hessian_eigenvalues", "loss_hessian_trace", "neuron_gradient_gram",
    "output_hessian_eigenpairs", "output_hessian_norm", "single_layer_hessian_norm", "taylor_remainder",
]
