"""Rewards for the trainers people already use, from the same verifier as the envs.

=============  ==============================================================
``trl``        :func:`~azr_env.integrations.trl.reward_function` for TRL's trainers
``verl``       :func:`~azr_env.integrations.verl.compute_score` for veRL's reward hook
``server``     ``azr serve``: a reward service over HTTP for any other trainer
=============  ==============================================================

Each reads tasks from :mod:`azr_env.export` records and scores through
:func:`azr_env.scoring.rewards.score_completions`: parsing, verification and reward are the
envs' own, so a forged answer fails here exactly as it fails in ``env.step``.
"""
