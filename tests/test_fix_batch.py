"""The fixer's batch index answers exactly as pairwise `RenderedFix.conflicts_with`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cfnfix.writer import RenderedFix, TextEdit
from cfnfix.writer.batch import Batch
from cfnfix.writer.plan import Op

KEYS = st.sampled_from(["Resources", "A", "B", "Properties", "Tags", 0, 1, "+"])


@st.composite
def fixes(draw: st.DrawFn) -> RenderedFix:
    """A fix of a few ops and non-overlapping edits, as the writer produces them."""
    ops = [
        Op("replace", tuple(draw(st.lists(KEYS, max_size=4))))
        for _ in range(draw(st.integers(1, 3)))
    ]
    edits, cursor = [], draw(st.integers(0, 20))
    for _ in range(draw(st.integers(1, 3))):
        start = cursor + draw(st.integers(0, 6))
        end = start + draw(st.integers(0, 4))
        edits.append(TextEdit(start, end, "x"))
        cursor = end + 1 if end > start else end
    return RenderedFix(ops, edits)


@settings(max_examples=300, deadline=None)
@given(st.lists(fixes(), min_size=1, max_size=12))
def test_batch_matches_pairwise_conflicts(candidates: list[RenderedFix]) -> None:
    index, accepted = Batch(), []
    for fix in candidates:
        expected = any(fix.conflicts_with(other) for other in accepted)
        assert index.conflicts(fix) == expected
        if not expected:
            index.add(fix)
            accepted.append(fix)
