"""S3-triggered thumbnail generator for the reference image-processing stack."""

__all__ = ["__version__"]

__version__ = "1.0.0"
