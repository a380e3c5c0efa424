"""Value classes that cost nothing to define.

``@dataclass`` writes and compiles the source of each class's methods (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` ...) when its module is imported:
about 1 ms a class, paid by every start-up for each class it imports. A :class:`Record`
has the same comparison and representation, written once here: a subclass names its
fields in order as ``__match_args__`` (as a dataclass has them), makes them its
``__slots__`` and writes its ``__init__``. The fields of a :class:`FrozenRecord` are
``Final`` (mypy checks that they are not reassigned).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self


class Record:
    """Equal to a record of the same class with equal fields (as a dataclass); not
    hashable (as a dataclass that is not frozen)."""

    __match_args__: ClassVar[tuple[str, ...]] = ()
    __slots__ = ()
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def _values(self) -> tuple[Any, ...]:
        """What is compared (and hashed): every field, unless a subclass says otherwise
        (as ``field(compare=False)`` does for a dataclass)."""
        return self._values_of(self.__match_args__)

    def _values_of(self, names: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{self.__class__.__qualname__}({fields})"

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (as ``dataclasses.replace``); the subclass's
        ``__init__`` takes every field by its name."""
        unknown = changes.keys() - set(self.__match_args__)
        if unknown:
            raise TypeError(f"{self.__class__.__qualname__} has no field {sorted(unknown)[0]!r}")
        return self.__class__(
            **{name: changes.get(name, getattr(self, name)) for name in self.__match_args__}
        )


class FrozenRecord(Record):
    """A record whose fields are never reassigned: hashable by its fields."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())
