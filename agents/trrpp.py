"""TRR++: task-relative REINFORCE++, the policy-gradient loss of the Absolute Zero Reasoner.

AZR (Zhao et al. 2025, §3.3.5) trains one model on six kinds of responses per step, one batch per
(task mode, role): modes deduction / abduction / induction, roles propose / solve. Each response gets a
single scalar reward, placed on its last valid token. With γ = 1 every valid token's return is then the
response reward ``R``, and REINFORCE++ turns returns into advantages by whitening them over all valid
tokens of the batch (veRL ``core_algos.masked_whiten``; means and variances are therefore length-weighted,
and the variance is unbiased, n − 1). TRR++ whitens separately inside each of the six (mode, role) groups,
so each group has its own baseline: a proposer's reward is never compared against a solver's.

The update is a single on-policy step over all groups together. With importance ratio 1 PPO's clipping is
inactive, so the policy loss reduces to plain REINFORCE with the whitened advantages, aggregated as veRL's
default ``token-mean``::

    pg_loss = −Σ(adv · logprob · mask) / Σ mask
    loss    = pg_loss − entropy_coef · token_mean(entropy) + kl_coef · token_mean(k3_kl)

Shapes: ``B`` responses, ``T`` response-token positions (right-padded), ``V`` vocabulary size. Masks may be
bool or float (1 = valid token).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

MODES: tuple[str, ...] = ("deduction", "abduction", "induction")
ROLES: tuple[str, ...] = ("propose", "solve")

#: The six (mode, role) groups, each with its own baseline; a group id is an index into this tuple.
GROUPS: tuple[tuple[str, str], ...] = tuple((mode, role) for mode in MODES for role in ROLES)

#: Numerical floor of the KL estimate's clamp, as in veRL's ``low_var_kl``.
KL_CLAMP = 10.0


def group_index(mode: str, role: str) -> int:
    """The group id of a (mode, role) pair: its index in :data:`GROUPS`."""
    try:
        return GROUPS.index((mode, role))
    except ValueError:
        raise ValueError(f"unknown (mode, role) {(mode, role)!r}; expected one of {GROUPS}") from None


def _float_mask(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """A bool or float mask as 0/1 values of ``dtype``."""
    return mask.to(dtype) if mask.dtype == torch.bool else (mask != 0).to(dtype)


def _check_response_shapes(rewards: Tensor, mask: Tensor) -> None:
    if mask.dim() != 2 or rewards.shape != mask.shape[:1]:
        raise ValueError(
            f"expected rewards [B] and mask [B, T], got {tuple(rewards.shape)} and {tuple(mask.shape)}"
        )


def _float_dtype(t: Tensor) -> torch.dtype:
    return t.dtype if t.is_floating_point() else torch.get_default_dtype()


def token_returns(rewards: Tensor, mask: Tensor) -> Tensor:
    """The return of every token: ``R`` on every valid token, 0 elsewhere.

    The reward sits on the last valid token and γ = 1 (no discount, no per-token KL penalty in the reward),
    so the reward-to-go at every earlier valid token equals the response reward.
    """
    _check_response_shapes(rewards, mask)
    dtype = _float_dtype(rewards)
    return rewards.to(dtype)[:, None] * _float_mask(mask, dtype)


def last_token_rewards(rewards: Tensor, mask: Tensor) -> Tensor:
    """The token-level reward tensor: each reward on its response's last valid token, 0 elsewhere.

    This is where veRL places an outcome reward; kept for logging and inspection (the advantages use
    :func:`token_returns`). Rows with no valid token are all zero.
    """
    _check_response_shapes(rewards, mask)
    dtype = _float_dtype(rewards)
    out = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    if mask.shape[1] == 0:
        return out
    valid = _float_mask(mask, torch.float32)
    last = mask.shape[1] - 1 - valid.flip(-1).argmax(-1)  # index of the last 1 in each row
    has_any = valid.sum(-1) > 0
    out.scatter_(1, last[:, None], (rewards.to(dtype) * has_any.to(dtype))[:, None])
    return out


def masked_whiten(values: Tensor, mask: Tensor, eps: float = 1e-8) -> Tensor:
    """``(values − mean) / sqrt(var + eps)`` over the masked entries; 0 outside the mask.

    As veRL ``core_algos.masked_whiten`` (with ``shift_mean=True``): the mean and the unbiased (n − 1)
    variance are taken over the valid entries only, so with token-level returns they are length-weighted.
    With fewer than 2 valid entries there is nothing to compare against (and the unbiased variance is
    undefined), so the result is all zeros rather than an error. Computed without a host sync.
    """
    if values.shape != mask.shape:
        raise ValueError(f"values {tuple(values.shape)} and mask {tuple(mask.shape)} differ in shape")
    dtype = _float_dtype(values)
    m = _float_mask(mask, dtype)
    x = values.to(dtype)
    n = m.sum()
    mean = (x * m).sum() / n.clamp(min=1)
    centered = (x - mean) * m
    var = (centered * centered).sum() / (n - 1).clamp(min=1)
    enough = (n >= 2).to(dtype)
    return centered * torch.rsqrt(var + eps) * enough


def trrpp_advantages(rewards: Tensor, mask: Tensor, groups: Tensor, eps: float = 1e-8) -> Tensor:
    """TRR++ advantages: the token returns whitened separately within each (mode, role) group.

    ``groups`` holds one group id (0..5, see :data:`GROUPS`) per response. Each group's tokens are centred
    and scaled by that group's own length-weighted mean and unbiased standard deviation (AZR §3.3.5: six
    baselines); a group without responses contributes nothing. Returns ``[B, T]``, 0 on padding.
    """
    _check_response_shapes(rewards, mask)
    if groups.shape != rewards.shape:
        raise ValueError(f"expected groups [B] like rewards, got {tuple(groups.shape)}")
    if groups.numel() and bool((groups.min() < 0) | (groups.max() >= len(GROUPS))):
        raise ValueError(f"group ids must lie in 0..{len(GROUPS) - 1}, got {groups.tolist()}")
    returns = token_returns(rewards, mask)
    valid = _float_mask(mask, torch.bool)
    advantages = torch.zeros_like(returns)
    for g in range(len(GROUPS)):
        in_group = valid & (groups == g)[:, None]
        # Groups are disjoint, so summing the per-group whitened values fills each token exactly once.
        advantages = advantages + masked_whiten(returns, in_group, eps)
    return advantages


@dataclass(frozen=True)
class LossStats:
    """Scalars for logging one update (token means over the valid tokens)."""

    loss: float
    pg_loss: float
    entropy: float
    kl: float
    n_tokens: float
    adv_mean: float
    adv_std: float


def _token_mean(values: Tensor, m: Tensor, n: Tensor) -> Tensor:
    return (values * m).sum() / n


def low_var_kl(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """The k3 estimate of KL(π‖π_ref) per token, ``exp(ref − logp) − (ref − logp) − 1``, clamped to ±10.

    Non-negative, unbiased and low-variance (Schulman's k3; veRL ``kl_penalty(..., "low_var_kl")``).
    """
    log_ratio = ref_logprobs - logprobs
    return (torch.exp(log_ratio) - log_ratio - 1).clamp(min=-KL_CLAMP, max=KL_CLAMP)


def trrpp_loss(
    logprobs: Tensor,
    advantages: Tensor,
    mask: Tensor,
    entropy: Tensor | None = None,
    entropy_coef: float = 0.001,
    ref_logprobs: Tensor | None = None,
    kl_coef: float = 0.0,
) -> tuple[Tensor, LossStats]:
    """The TRR++ loss for one on-policy step over all six groups together, and its logging stats.

    ``pg_loss = −Σ(adv · logprob · mask) / Σ mask`` (REINFORCE with whitened advantages; on-policy the PPO
    ratio is 1 and clipping never binds), minus ``entropy_coef`` times the token-mean entropy (AZR: 0.001),
    plus ``kl_coef`` times the token-mean k3 KL to ``ref_logprobs`` (off by default, as in AZR). Advantages
    are constants (detached); the reference log-probs are detached too. All means are over the valid
    tokens of the whole batch (veRL ``token-mean``), computed in float32.
    """
    if not (logprobs.shape == advantages.shape == mask.shape):
        raise ValueError(
            f"logprobs {tuple(logprobs.shape)}, advantages {tuple(advantages.shape)} and mask "
            f"{tuple(mask.shape)} must have one shape"
        )
    logp = logprobs.float()
    adv = advantages.detach().float()
    m = _float_mask(mask, torch.float32)
    n = m.sum().clamp(min=1)

    pg_loss = -_token_mean(adv * logp, m, n)
    loss = pg_loss
    ent_mean = torch.zeros((), device=logp.device)
    if entropy is not None:
        ent_mean = _token_mean(entropy.float(), m, n)
        loss = loss - entropy_coef * ent_mean
    kl_mean = torch.zeros((), device=logp.device)
    if ref_logprobs is not None:
        kl_mean = _token_mean(low_var_kl(logp, ref_logprobs.detach().float()), m, n)
        if kl_coef:
            loss = loss + kl_coef * kl_mean
    elif kl_coef:
        raise ValueError("kl_coef > 0 needs ref_logprobs")

    with torch.no_grad():
        n_valid = m.sum()
        adv_mean = _token_mean(adv, m, n)
        adv_var = (((adv - adv_mean) * m) ** 2).sum() / (n_valid - 1).clamp(min=1)
        stats = LossStats(
            loss=loss.item(),
            pg_loss=pg_loss.item(),
            entropy=ent_mean.item(),
            kl=kl_mean.item(),
            n_tokens=n_valid.item(),
            adv_mean=adv_mean.item(),
            adv_std=adv_var.sqrt().item(),
        )
    return loss, stats


def token_logprobs_and_entropy(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Per-token log-probabilities of ``targets`` and the entropy of each predictive distribution.

    ``logits`` is ``[B, T, V]`` and ``targets`` ``[B, T]`` (the loop passes ``logits[:, :-1]`` and
    ``input_ids[:, 1:]``). Both results are ``[B, T]`` float32: the softmax is taken in float32 so that
    bf16/fp16 logits do not lose the small probabilities. Gradients flow through both.
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not match targets {tuple(targets.shape)}")
    log_probs = F.log_softmax(logits.float(), dim=-1)
    token_logprobs = log_probs.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return token_logprobs, entropy
