"""eh-bench: the Expected Harm benchmark."""
__version__ = "0.1.0"
