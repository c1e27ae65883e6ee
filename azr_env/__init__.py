"""azr-env: Absolute Zero Reasoner as a Gymnasium-style environment library.

Importing the package registers the environments::

    import gymnasium as gym
    import azr_env  # noqa: F401  (or use the id "azr_env:AZR-Deduction-v0")

    env = gym.make("AZR-Deduction-v0")
"""

from gymnasium.envs.registration import register, registry

from azr_env import _moved

__version__ = "0.1.0"

_ENVS = {
    "AZR-Deduction-v0": ("deduction:DeductionEnv", "vector:DeductionVectorEnv"),
    "AZR-Abduction-v0": ("abduction:AbductionEnv", "vector:AbductionVectorEnv"),
    "AZR-Induction-v0": ("induction:InductionEnv", "vector:InductionVectorEnv"),
    "AZR-Propose-Deduction-v0": ("propose_deduction:ProposeDeductionEnv",
                                 "propose_deduction:ProposeDeductionVectorEnv"),
    "AZR-Propose-Abduction-v0": ("propose_abduction:ProposeAbductionEnv",
                                 "propose_abduction:ProposeAbductionVectorEnv"),
    "AZR-Propose-Induction-v0": ("propose_induction:ProposeInductionEnv",
                                 "propose_induction:ProposeInductionVectorEnv"),
}


def _register() -> None:
    for env_id, (entry, vector_entry) in _ENVS.items():
        if env_id not in registry:
            register(
                id=env_id,
                entry_point=f"azr_env.envs.{entry}",
                vector_entry_point=f"azr_env.envs.{vector_entry}",
                disable_env_checker=False,
            )


_register()
_moved.install()  # azr_env.tasksets, azr_env.verify ... (before 0.2) still import, with a warning
