"""TRR++ (task-relative REINFORCE++): per-group whitening, the loss, and a toy policy that learns."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from azr_agents.trrpp import (  # noqa: E402
    GROUPS,
    LossStats,
    group_index,
    last_token_rewards,
    masked_whiten,
    token_logprobs_and_entropy,
    token_returns,
    trrpp_advantages,
    trrpp_loss,
)

EPS = 1e-8


def lengths_mask(lengths: list[int], width: int) -> torch.Tensor:
    """A right-padded float mask with the given number of valid tokens per row."""
    return torch.tensor([[1.0] * n + [0.0] * (width - n) for n in lengths])


# ---------------------------------------------------------------------------- groups and returns


def test_groups_order_and_index():
    assert GROUPS == (
        ("deduction", "propose"),
        ("deduction", "solve"),
        ("abduction", "propose"),
        ("abduction", "solve"),
        ("induction", "propose"),
        ("induction", "solve"),
    )
    for i, (mode, role) in enumerate(GROUPS):
        assert group_index(mode, role) == i
    with pytest.raises(ValueError):
        group_index("deduction", "judge")


def test_token_returns_and_last_token_rewards():
    rewards = torch.tensor([1.0, -0.5, 2.0])
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)
    torch.testing.assert_close(
        token_returns(rewards, mask),
        torch.tensor([[1.0, 1.0, 1.0, 0.0], [-0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]),
    )
    torch.testing.assert_close(
        last_token_rewards(rewards, mask),
        torch.tensor([[0.0, 0.0, 1.0, 0.0], [-0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]),
    )
    # Float masks give the same, and each last-token reward summed over the row is the reward (γ = 1).
    torch.testing.assert_close(last_token_rewards(rewards, mask.float()), last_token_rewards(rewards, mask))
    torch.testing.assert_close(last_token_rewards(rewards, mask).sum(-1), torch.tensor([1.0, -0.5, 0.0]))


# ---------------------------------------------------------------------------- 1. hand-computed TRR++


# 8 responses over the six groups; deduction/propose and abduction/solve have two responses each.
HAND_GROUPS = [0, 0, 1, 2, 3, 3, 4, 5]
HAND_LENGTHS = [2, 4, 3, 1, 3, 1, 4, 2]
HAND_REWARDS = [1.0, -0.5, 1.0, -1.0, 1.0, -1.0, -0.5, 0.5]


def hand_inputs(rewards=HAND_REWARDS):
    return torch.tensor(rewards), lengths_mask(HAND_LENGTHS, 4), torch.tensor(HAND_GROUPS)


def hand_expected() -> torch.Tensor:
    # Group 0 (deduction, propose): tokens 1, 1 (length 2) and -0.5 ×4 (length 4).
    n0 = 6
    mean0 = (2 * 1.0 + 4 * -0.5) / n0  # = 0.0, not the per-response mean 0.25
    var0 = (2 * (1.0 - mean0) ** 2 + 4 * (-0.5 - mean0) ** 2) / (n0 - 1)  # = 3 / 5
    a0 = (1.0 - mean0) / math.sqrt(var0 + EPS)
    b0 = (-0.5 - mean0) / math.sqrt(var0 + EPS)
    # Group 3 (abduction, solve): tokens 1 ×3 (length 3) and -1 (length 1).
    n3 = 4
    mean3 = (3 * 1.0 + 1 * -1.0) / n3  # = 0.5
    var3 = (3 * (1.0 - mean3) ** 2 + 1 * (-1.0 - mean3) ** 2) / (n3 - 1)  # = 3 / 3 = 1
    a3 = (1.0 - mean3) / math.sqrt(var3 + EPS)
    b3 = (-1.0 - mean3) / math.sqrt(var3 + EPS)
    # Groups 1, 2, 4, 5 hold one response each: all their tokens share one return, so they are 0
    # (group 2 has a single token, so there is nothing to compare against at all).
    return torch.tensor(
        [
            [a0, a0, 0.0, 0.0],
            [b0, b0, b0, b0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [a3, a3, a3, 0.0],
            [b3, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )


def test_trrpp_advantages_hand_computed():
    rewards, mask, groups = hand_inputs()
    adv = trrpp_advantages(rewards, mask, groups)
    expected = hand_expected()
    torch.testing.assert_close(adv, expected)
    # Spot-check the closed forms: 1/sqrt(0.6), -0.5/sqrt(0.6), 0.5, -1.5.
    assert adv[0, 0].item() == pytest.approx(1 / math.sqrt(0.6), rel=1e-5)
    assert adv[1, 0].item() == pytest.approx(-0.5 / math.sqrt(0.6), rel=1e-5)
    assert adv[4, 0].item() == pytest.approx(0.5, rel=1e-5)
    assert adv[5, 0].item() == pytest.approx(-1.5, rel=1e-5)
    # Bool masks give the same.
    torch.testing.assert_close(trrpp_advantages(rewards, mask.bool(), groups), expected)


def test_trrpp_baseline_is_per_group():
    rewards, mask, groups = hand_inputs()
    base = trrpp_advantages(rewards, mask, groups)
    changed = list(HAND_REWARDS)
    # Only abduction/solve (group 3) changes. Whitening is invariant to a positive affine map of a group's
    # rewards, so flip their order: the longer response is now the worse one.
    changed[4], changed[5] = -1.0, 2.0
    other = trrpp_advantages(torch.tensor(changed), mask, groups)
    in_group3 = groups == 3
    torch.testing.assert_close(other[~in_group3], base[~in_group3])
    assert not torch.allclose(other[in_group3], base[in_group3])

    # One baseline over the whole batch (plain REINFORCE++) gives different numbers.
    whole = trrpp_advantages(rewards, mask, torch.zeros_like(groups))
    torch.testing.assert_close(whole, masked_whiten(token_returns(rewards, mask), mask))
    assert not torch.allclose(whole, base)
    # ... and group order/ids do not matter beyond which rows share a group.
    relabelled = trrpp_advantages(rewards, mask, (groups + 1) % len(GROUPS))
    torch.testing.assert_close(relabelled, base)


def test_trrpp_advantages_skips_empty_groups_and_rejects_bad_ids():
    rewards = torch.tensor([1.0, 0.0, -1.0])
    mask = lengths_mask([2, 1, 3], 3)
    adv = trrpp_advantages(rewards, mask, torch.tensor([5, 5, 5]))  # groups 0..4 are empty
    torch.testing.assert_close(adv, masked_whiten(token_returns(rewards, mask), mask))
    assert torch.isfinite(adv).all()
    with pytest.raises(ValueError):
        trrpp_advantages(rewards, mask, torch.tensor([0, 6, 1]))
    with pytest.raises(ValueError):
        trrpp_advantages(rewards, mask, torch.tensor([0, -1, 1]))


# ---------------------------------------------------------------------------- 2. masked_whiten


def test_masked_whiten_properties():
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(5, 7, generator=gen) * 3 + 2
    mask = torch.rand(5, 7, generator=gen) > 0.4
    out = masked_whiten(values, mask)
    assert (out[~mask] == 0).all()
    inside = out[mask]
    assert inside.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert inside.std(unbiased=True).item() == pytest.approx(1.0, rel=1e-5)
    # Matches the direct formula with torch.var (unbiased) on the selected entries.
    sel = values[mask]
    torch.testing.assert_close(inside, (sel - sel.mean()) / torch.sqrt(sel.var(unbiased=True) + EPS))
    # Bool and float masks agree.
    torch.testing.assert_close(masked_whiten(values, mask.float()), out)


@pytest.mark.parametrize("n_valid", [0, 1])
def test_masked_whiten_too_few_entries_is_zero(n_valid):
    values = torch.tensor([[4.0, -2.0, 7.0]])
    mask = torch.tensor([[1.0] * n_valid + [0.0] * (3 - n_valid)])
    out = masked_whiten(values, mask)
    torch.testing.assert_close(out, torch.zeros_like(values))


def test_masked_whiten_constant_values_is_zero():
    out = masked_whiten(torch.full((2, 3), 5.0), torch.ones(2, 3))
    torch.testing.assert_close(out, torch.zeros(2, 3))


# ---------------------------------------------------------------------------- 3. trrpp_loss


def loss_inputs():
    logprobs = torch.tensor([[-0.5, -1.0, -2.0], [-0.1, -3.0, -0.7]], requires_grad=True)
    advantages = torch.tensor([[1.0, 1.0, 9.0], [-2.0, 9.0, 9.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    return logprobs, advantages, mask


def test_trrpp_loss_pg_hand_formula_and_gradients():
    logprobs, advantages, mask = loss_inputs()
    loss, stats = trrpp_loss(logprobs, advantages, mask, entropy_coef=0.0)
    # Three valid tokens: -(1·-0.5 + 1·-1.0 + -2·-0.1) / 3; the padded 9s must not count.
    expected_pg = -(1.0 * -0.5 + 1.0 * -1.0 + -2.0 * -0.1) / 3
    assert loss.item() == pytest.approx(expected_pg, rel=1e-6)
    assert stats.pg_loss == pytest.approx(expected_pg, rel=1e-6)
    assert stats.n_tokens == 3
    assert stats.adv_mean == pytest.approx(0.0)
    assert stats.adv_std == pytest.approx(math.sqrt((1 + 1 + 4) / 2))
    assert isinstance(stats, LossStats)
    loss.backward()
    # Advantages are constants; d loss / d logprob = -adv · mask / Σ mask.
    assert advantages.grad is None
    torch.testing.assert_close(logprobs.grad, -advantages.detach() * mask / 3)


def test_trrpp_loss_entropy_bonus():
    logprobs, advantages, mask = loss_inputs()
    entropy = torch.tensor([[1.0, 2.0, 50.0], [0.5, 50.0, 50.0]])
    base, _ = trrpp_loss(logprobs, advantages, mask, entropy_coef=0.0)
    coef = 0.01
    with_ent, stats = trrpp_loss(logprobs, advantages, mask, entropy=entropy, entropy_coef=coef)
    mean_entropy = (1.0 + 2.0 + 0.5) / 3
    assert stats.entropy == pytest.approx(mean_entropy, rel=1e-6)
    assert (base - with_ent).item() == pytest.approx(coef * mean_entropy, rel=1e-5)
    # The default coefficient is AZR's 0.001.
    default, _ = trrpp_loss(logprobs, advantages, mask, entropy=entropy)
    assert (base - default).item() == pytest.approx(0.001 * mean_entropy, rel=1e-4)


def test_trrpp_loss_kl_term():
    logprobs, advantages, mask = loss_inputs()
    base, _ = trrpp_loss(logprobs, advantages, mask)
    same, stats = trrpp_loss(logprobs, advantages, mask, ref_logprobs=logprobs.detach().clone(), kl_coef=0.1)
    assert stats.kl == 0.0
    assert same.item() == pytest.approx(base.item())
    ref = logprobs.detach() + torch.tensor([[0.3, -0.2, 0.0], [0.5, 0.0, 0.0]])
    moved, stats = trrpp_loss(logprobs, advantages, mask, ref_logprobs=ref, kl_coef=0.1)
    d = [0.3, -0.2, 0.5]  # ref − logp on the valid tokens
    expected_kl = sum(math.exp(x) - x - 1 for x in d) / 3
    assert stats.kl > 0
    assert stats.kl == pytest.approx(expected_kl, rel=1e-5)
    assert (moved - base).item() == pytest.approx(0.1 * expected_kl, rel=1e-4)
    # Off by default: the KL is logged but does not enter the loss.
    logged, stats = trrpp_loss(logprobs, advantages, mask, ref_logprobs=ref)
    assert stats.kl == pytest.approx(expected_kl, rel=1e-5)
    assert logged.item() == pytest.approx(base.item())


# ---------------------------------------------------------------------------- 4. a toy policy learns


class BigramPolicy(torch.nn.Module):
    """Next-token logits from the previous token alone: a policy small enough to train in a test."""

    def __init__(self, vocab: int = 8, dim: int = 16) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, dim)
        self.head = torch.nn.Linear(dim, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(ids))


PROMPT, EOS, REWARDED, MAX_NEW = 0, 7, 3, 4


@torch.no_grad()
def sample(policy: BigramPolicy, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Responses after the one-token prompt: input ids [B, 1 + MAX_NEW] and the response mask [B, MAX_NEW]."""
    ids = torch.full((batch, 1), PROMPT)
    alive = torch.ones(batch, dtype=torch.bool)
    mask = []
    for _ in range(MAX_NEW):
        nxt = torch.multinomial(torch.softmax(policy(ids[:, -1]), -1), 1).squeeze(-1)
        mask.append(alive.clone())
        ids = torch.cat([ids, torch.where(alive, nxt, EOS)[:, None]], dim=1)
        alive = alive & (nxt != EOS)  # EOS is the response's last valid token
    return ids, torch.stack(mask, dim=1)


def first_token_logprob(policy: BigramPolicy) -> float:
    with torch.no_grad():
        return torch.log_softmax(policy(torch.tensor([PROMPT])), -1)[0, REWARDED].item()


def test_toy_policy_learns_rewarded_token():
    torch.manual_seed(0)
    policy = BigramPolicy()
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-2)
    before = first_token_logprob(policy)
    batch = 48
    groups = torch.arange(batch) % len(GROUPS)
    for _ in range(20):
        ids, mask = sample(policy, batch)
        rewards = torch.where(((ids[:, 1:] == REWARDED) & mask).any(-1), 1.0, -1.0)
        advantages = trrpp_advantages(rewards, mask, groups)
        logprobs, entropy = token_logprobs_and_entropy(policy(ids[:, :-1]), ids[:, 1:])
        loss, stats = trrpp_loss(logprobs, advantages, mask, entropy=entropy)
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert math.isfinite(stats.loss)
    after = first_token_logprob(policy)
    assert after - before > 1.0, (before, after)  # about +2 nats in practice


# ---------------------------------------------------------------------------- 5. log-probs and entropy


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_token_logprobs_and_entropy_matches_direct(dtype):
    gen = torch.Generator().manual_seed(1)
    logits = (torch.randn(3, 5, 11, generator=gen) * 4).to(dtype)
    targets = torch.randint(0, 11, (3, 5), generator=gen)
    logprobs, entropy = token_logprobs_and_entropy(logits, targets)
    assert logprobs.dtype == entropy.dtype == torch.float32
    ref = logits.double()
    probs = torch.softmax(ref, -1)
    expected_entropy = -(probs * torch.log(probs)).sum(-1)
    expected_logprobs = torch.stack(
        [torch.stack([torch.log_softmax(ref[b, t], -1)[targets[b, t]] for t in range(5)]) for b in range(3)]
    )
    torch.testing.assert_close(logprobs.double(), expected_logprobs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(entropy.double(), expected_entropy, rtol=1e-5, atol=1e-5)
    # Gradients flow through both outputs.
    leaf = logits.float().requires_grad_()
    lp, ent = token_logprobs_and_entropy(leaf, targets)
    (lp.sum() + ent.sum()).backward()
    assert leaf.grad is not None and torch.isfinite(leaf.grad).all()
