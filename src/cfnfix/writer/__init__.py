"""The shared writer: semantic changes in, minimal text edits in the file's style out."""

from __future__ import annotations

from cfnfix.changes import Change
from cfnfix.errors import FixError
from cfnfix.nodes import Path
from cfnfix.template import Template
from cfnfix.writer.edits import TextEdit, apply_edits, overlaps
from cfnfix.writer.json_writer import JsonWriter
from cfnfix.writer.plan import Op, claims_conflict, plan
from cfnfix.writer.style import detect_json_style, detect_yaml_style
from cfnfix.writer.yaml_writer import YamlWriter

__all__ = [
    "RenderedFix",
    "TextEdit",
    "Writer",
    "apply_edits",
    "claims_conflict",
    "overlaps",
]


class RenderedFix:
    """A fix's changes as text edits, with the paths they claim."""

    def __init__(self, ops: list[Op], edits: list[TextEdit]) -> None:
        self.ops = ops
        self.edits = edits
        self.claims = [op.claim for op in ops]

    def conflicts_with(self, other: RenderedFix) -> bool:
        if any(overlaps(a, b) for a in self.edits for b in other.edits):
            return True
        return any(claims_conflict(a, b) for a in self.claims for b in other.claims)


class Writer:
    """Renders changes for one template (style detected once, on first use)."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self._backend: YamlWriter | JsonWriter | None = None

    @property
    def backend(self) -> YamlWriter | JsonWriter:
        if self._backend is None:
            t = self.template
            if t.source.is_json:
                style = detect_json_style(t.text, t.root)
                self._backend = JsonWriter(t.text, t.root, style, t.source.newline)
            else:
                ystyle = detect_yaml_style(t.text, t.root)
                self._backend = YamlWriter(t.text, t.root, ystyle, t.source.newline)
        return self._backend

    def render(self, changes: list[Change]) -> RenderedFix:
        """Text edits for ``changes``; raises :class:`FixError` when they cannot be made."""
        expanded = self.template.foreach_bodies
        for change in changes:
            path: Path = getattr(change, "path", ())
            key = getattr(change, "key", None)
            named = path[1] if len(path) >= 2 else key if path == ("Resources",) else None
            if named in expanded:
                raise FixError(
                    f"{named} is written as an Fn::ForEach loop body: its fix would change "
                    "every resource of the loop"
                )
        ops = plan(self.template.root, changes)
        edits: list[TextEdit] = []
        try:
            for op in ops:
                depth = len(op.path)
                edits.extend(e._replace(depth=depth) for e in self.backend.render(op))
        except (KeyError, IndexError, AssertionError) as exc:
            raise FixError(f"cannot render the change ({type(exc).__name__})") from None
        for i, a in enumerate(edits):
            for b in edits[i + 1 :]:
                if overlaps(a, b) and not (a.idempotent and a == b):
                    raise FixError("the fix's own edits overlap")
        return RenderedFix(ops, edits)
