"""Project-wide policy that several rules share (rule options are per rule)."""

from __future__ import annotations

from typing import Any, Final

from cfnfix.records import FrozenRecord

# The tagging standard from the seed analysis: every resource carries `iac-rlhf-amazon`.
DEFAULT_REQUIRED_TAGS: dict[str, Any] = {"iac-rlhf-amazon": "true"}


class Settings(FrozenRecord):
    __match_args__ = ("required_tags",)
    __slots__ = __match_args__

    def __init__(self, required_tags: dict[str, Any] | None = None) -> None:
        # Tag key -> the value a fix writes: a string, or an intrinsic such as {"Ref": "Env"}.
        self.required_tags: Final = (
            dict(DEFAULT_REQUIRED_TAGS) if required_tags is None else required_tags
        )
