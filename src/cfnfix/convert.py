"""``cfnfix convert``: a template from YAML to JSON or back, through cfn-flip.

cfn-flip keeps key order and writes short-form tags (``!Ref``) in YAML. It cannot keep
comments, anchors and aliases (they are expanded) or the way YAML scalars were quoted;
:func:`yaml_losses` names what a conversion would lose, so the command can warn. Every
conversion is verified: the output must read back, with cfnfix's own loader, as exactly
the data of the input (same keys in the same order, same values); otherwise it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnfix import pyyaml  # noqa: F401  (before yaml: see cfnfix.pyyaml)

# isort: split
import yaml

from cfnfix.errors import CfnfixError, LoadError
from cfnfix.nodes import Path as NodePath
from cfnfix.nodes import to_plain
from cfnfix.source import BOM, Source, read_source
from cfnfix.template import Template

FORMATS = ("yaml", "json")
SUFFIXES = {"yaml": (".yaml", ".yml"), "json": (".json",)}
# Token marks index characters of the text with either loader; libyaml is ~15x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConvertError(CfnfixError):
    """A template that cannot be converted (one-line message)."""


@dataclass(frozen=True)
class Conversion:
    text: str  # with the input's line endings
    lost: tuple[str, ...]  # what the input had that the output cannot keep
    bom: bool = False

    def encode(self) -> bytes:
        return (BOM if self.bom else "").encode() + self.text.encode("utf-8")


def yaml_losses(text: str, target: str) -> tuple[str, ...]:
    """What converting this YAML text to ``target`` loses, in words, in a stable order."""
    covered: list[tuple[int, int]] = []
    anchors = quoted = False
    try:
        for token in yaml.scan(text, Loader=_LOADER):
            covered.append((token.start_mark.index, token.end_mark.index))
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                anchors = True
            elif isinstance(token, yaml.ScalarToken) and token.style in ("'", '"', "|", ">"):
                quoted = True
    except yaml.YAMLError:
        return ()  # the loader has already accepted the text; be quiet rather than wrong
    lost = []
    if _has_comment(text, covered):
        lost.append("comments")
    if anchors:
        lost.append("anchor names" if target == "yaml" else "anchors and aliases (expanded)")
    if quoted and target == "yaml":
        lost.append("quoting and block scalar styles")
    return tuple(lost)


def _has_comment(text: str, covered: list[tuple[int, int]]) -> bool:
    """A ``#`` outside every token, at a line start or after a blank, starts a comment."""
    spans = iter(covered)  # tokens come in text order
    span = next(spans, None)
    index = text.find("#")
    while index != -1:
        while span is not None and span[1] <= index:
            span = next(spans, None)
        inside = span is not None and span[0] <= index < span[1]
        if not inside and (index == 0 or text[index - 1] in " \t\r\n"):
            return True
        index = text.find("#", index + 1)
    return False


def first_difference(a: Any, b: Any, path: NodePath = ()) -> NodePath | None:
    """The first path where two plain documents differ, key order included; else None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return path
        for key in a:
            found = first_difference(a[key], b[key], (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, (*path, i))
            if found is not None:
                return found
        return None
    same_kind = isinstance(a, bool) == isinstance(b, bool) and isinstance(a, str) == isinstance(
        b, str
    )
    return None if same_kind and a == b else path


def _flip(text: str, target: str) -> str:
    import cfn_flip

    if target == "yaml":
        # literal=False: cfn-flip would otherwise turn some mappings into JSON strings.
        return str(cfn_flip.to_yaml(text, clean_up=False, long_form=False, literal=False))
    return str(cfn_flip.to_json(text, clean_up=False)).rstrip("\n") + "\n"


def convert_source(source: Source, target: str) -> Conversion:
    """Convert a template; raises :class:`LoadError` or :class:`ConvertError`."""
    if target not in FORMATS:
        raise ConvertError(f"unknown format {target!r} (use yaml or json)")
    before = to_plain(Template.parse(source).root)
    try:
        text = _flip(source.text, target)
    except Exception as exc:  # cfn-flip raises anything from ValueError to TypeError
        raise ConvertError(f"cfn-flip cannot convert it: {type(exc).__name__}: {exc}") from None
    suffix = ".json" if target == "json" else ".yaml"
    try:
        after = to_plain(Template.parse(Source.from_text(text, f"converted{suffix}")).root)
    except LoadError as exc:
        raise ConvertError(f"cfn-flip produced a template that does not read back: {exc}") from None
    where = first_difference(before, after)
    if where is not None:
        place = "/".join(str(key) for key in where) or "the template root"
        raise ConvertError(f"cfn-flip would change the template at {place}; not converted")
    if source.newline == "\r\n":
        text = text.replace("\n", "\r\n")
    lost = () if source.is_json else yaml_losses(source.text, target)
    return Conversion(text, lost, source.bom)


def convert_file(path: Path, target: str) -> Conversion:
    return convert_source(read_source(path), target)


def converted_path(path: Path, target: str) -> Path:
    """Where ``--in-place`` writes: the target's suffix, unless the name already fits."""
    suffix = path.suffix.lower()
    if suffix in SUFFIXES[target] or suffix == ".template":
        return path
    return path.with_suffix(SUFFIXES[target][0])
