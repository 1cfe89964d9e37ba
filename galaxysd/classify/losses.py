"""The two training losses of Table 2: binary cross-entropy and the sigmoid focal loss.

The focal loss (Lin et al. 2017) is torchvision's ``ops.sigmoid_focal_loss`` formula, written out
here because torchvision's compiled operators do not load beside the CPU build of torch this project
installs (see :mod:`galaxysd.backbone`).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from galaxysd.errors import ParameterError

#: Loss names :func:`loss_function` knows.
LOSSES = ("bce", "focal")
#: torchvision's defaults, used by the paper's reference implementation of the focal loss.
FOCAL_ALPHA = 0.25
FOCAL_GAMMA = 2.0


def sigmoid_focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = FOCAL_ALPHA,
                       gamma: float = FOCAL_GAMMA, reduction: str = "mean") -> torch.Tensor:
    """Focal loss on logits: cross-entropy times ``(1 - p_t)**gamma``, weighted ``alpha`` / ``1 - alpha``.

    ``p_t`` is the predicted probability of the true class; ``alpha`` weights positives and
    ``1 - alpha`` negatives (a negative ``alpha`` switches the weighting off), as in torchvision.

    Parameters
    ----------
    logits, targets : torch.Tensor
        Same shape; targets are 0 or 1.
    alpha : float, optional
    gamma : float, optional
    reduction : {"mean", "sum", "none"}, optional

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> round(float(sigmoid_focal_loss(torch.tensor([0.0]), torch.tensor([1.0]))), 4)
    0.0433
    """
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ParameterError(f"reduction={reduction!r}; expected 'mean', 'sum' or 'none'")


def loss_function(name: str, alpha: float = FOCAL_ALPHA,
                  gamma: float = FOCAL_GAMMA) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``(logits, targets) -> mean loss`` called ``name`` (``"bce"`` or ``"focal"``).

    Raises
    ------
    ParameterError
        For an unknown name.

    Examples
    --------
    >>> loss = loss_function("focal", alpha=0.25, gamma=2.0)
    """
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "focal":
        return lambda logits, targets: sigmoid_focal_loss(logits, targets, alpha, gamma)
    raise ParameterError(f"loss={name!r}; expected one of {LOSSES}")
