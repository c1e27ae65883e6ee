"""azr-env: Absolute Zero Reasoner as a Gymnasium-style environment library."""

__version__ = "0.1.0"
