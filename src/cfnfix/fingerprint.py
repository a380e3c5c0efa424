"""Fingerprints: a digest of a value's data that two values share exactly when ``==``
finds them equal.

The fixer checks that a rewritten template holds exactly the intended data: the old model
with the fixes' changes applied, compared with the model parsed from the new text. To
compare the two, the old model would have to stay alive while the new text is parsed (on a
large template, the two models are most of the memory a fix takes); the fingerprint of the
intended data, taken before, is all the check needs.

A fingerprint follows ``==`` for what models and changes hold: mappings (``dict`` and
:class:`MapNode`, keys in any order) with string keys; sequences (``list`` and
:class:`SeqNode`) and tuples (never equal to a list, as ``[1] != (1,)``); strings; numbers
by value (``True == 1 == 1.0``); ``None``; and :class:`OpaqueNode` (by tag and text).
Anything else raises :class:`Unsupported`, NaN included: it is equal to nothing but the
very same object (PyYAML reads every ``.nan`` as one such object), which no digest can
tell. Such data is compared as it is.
"""

from __future__ import annotations

from typing import Any

from cfnfix.nodes import MapNode, OpaqueNode, SeqNode

try:  # hashlib's own BLAKE2 (as random takes _sha512): importing hashlib loads OpenSSL,
    from _blake2 import blake2b  # 3 MiB of memory for a function it does not use here
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

# The encoding is a text of tokens, each followed by a comma: "{" and "}" around a
# mapping's keys (sorted) and values, "[" and "]" around a sequence's items ("(" and ")"
# for a tuple), a string's repr (quotes and escapes make it end unambiguously), a number's
# decimal digits (an integral float is written as the integer it equals, other floats by
# repr), "None", and "!" with the tag's and text's reprs for an opaque value. It is hashed
# a chunk at a time: the text of a large template would take megabytes.
_CHUNK = 4096  # tokens


class Unsupported(ValueError):
    """A value whose equality a fingerprint cannot follow (see the module's docstring)."""


def fingerprint(value: Any) -> bytes:
    """The digest (BLAKE2b) of ``value``'s data; :class:`Unsupported` for a value it does
    not cover."""
    digest = blake2b(digest_size=32)
    tokens: list[str] = []
    _encode(value, tokens, digest)
    _flush(tokens, digest)
    return digest.digest()


def _flush(tokens: list[str], digest: Any) -> None:
    if tokens:
        digest.update((",".join(tokens) + ",").encode())
        tokens.clear()


def _encode(value: Any, tokens: list[str], digest: Any) -> None:
    # Strings, nearly every value, are written inline: a call for each would cost more
    # than the rest of the encoding.
    kind = type(value)
    if kind is MapNode or kind is dict:
        try:
            keys = sorted(value) if len(value) > 1 else list(value)
        except TypeError:  # keys of several types
            raise Unsupported("a mapping with keys that are not strings") from None
        tokens.append("{")
        for key in keys:
            if type(key) is not str:
                raise Unsupported("a mapping with keys that are not strings")
            tokens.append(repr(key))
            item = value[key]
            if type(item) is str:
                tokens.append(repr(item))
            else:
                _encode(item, tokens, digest)
        tokens.append("}")
        if len(tokens) >= _CHUNK:
            _flush(tokens, digest)
    elif kind is SeqNode or kind is list or kind is tuple:
        tokens.append("(" if kind is tuple else "[")
        for item in value:
            if type(item) is str:
                tokens.append(repr(item))
            else:
                _encode(item, tokens, digest)
        tokens.append(")" if kind is tuple else "]")
        if len(tokens) >= _CHUNK:
            _flush(tokens, digest)
    else:
        tokens.append(_scalar(value))


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return repr(value)
    if kind is int or kind is bool:
        return str(int(value))
    if kind is float:
        if value.is_integer():
            return str(int(value))
        if value == value:  # not NaN
            return repr(value)
        raise Unsupported("NaN")
    if value is None:
        return "None"
    if kind is OpaqueNode:
        return f"!{value.tag!r}{value.text!r}"
    raise Unsupported(f"a value of type {kind.__name__}")
