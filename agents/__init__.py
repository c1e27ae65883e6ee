"""The reference AZR agent (installed as ``azr_agents``); filled in by the training issue."""
