"""Project-wide policy that several rules share (rule options are per rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The tagging standard from the seed analysis: every resource carries `iac-rlhf-amazon`.
DEFAULT_REQUIRED_TAGS: dict[str, Any] = {"iac-rlhf-amazon": "true"}


@dataclass(frozen=True)
class Settings:
    # Tag key -> the value a fix writes: a string, or an intrinsic such as {"Ref": "Env"}.
    required_tags: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_REQUIRED_TAGS))
