"""assay: serve, evaluate and train code-completion models."""

__version__ = "0.1.0"
