"""cfnfix: lint and fix AWS CloudFormation templates with minimal, reviewable edits."""

__version__ = "0.1.0"
