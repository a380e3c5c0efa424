"""Applying fixes to a fixed point, verifying every step before anything is written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cfnfix.changes import ChangeError, apply_change
from cfnfix.collector import paused
from cfnfix.engine import CheckResult, run_rules
from cfnfix.errors import FixError, LoadError
from cfnfix.fingerprint import Unsupported, fingerprint
from cfnfix.nodes import MapNode, Path
from cfnfix.rule import Applicability, Finding, Rule
from cfnfix.template import Template
from cfnfix.writer import TextEdit, Writer, apply_edits
from cfnfix.writer.batch import Batch

MAX_ITERATIONS = 16
# Holding a template's model while its fixed text is parsed takes as much memory again as
# the model: above this size (that of the largest template CloudFormation accepts, 1 MB)
# the data the fixes intend is kept as a fingerprint instead, and the model goes before
# the parse. A smaller template keeps its model: the fingerprint's two walks of the data
# would make its fix some 6% slower (2,000 resources: 0.6 MB).
FINGERPRINT_ABOVE = 1 << 20  # characters of a template's text


class AppliedFix(NamedTuple):
    """A fix that was applied, as a report names it. The finding itself is not kept: its
    changes hold the values the fix wrote, megabytes on a large template."""

    rule: Rule
    resource: str | None
    description: str
    line: int  # where the finding was, in the text the fix applied to


@dataclass
class RefusedFix:
    finding: Finding
    reason: str


@dataclass
class FixOutcome:
    template: Template  # the final state
    result: CheckResult  # findings that remain
    applied: list[AppliedFix] = field(default_factory=list)
    refused: list[RefusedFix] = field(default_factory=list)
    # With ``record_steps``: each step's text and the edits that made the next one (the
    # last gives ``template``), for tests that check every edit. Off by default: a large
    # template's steps hold its whole text and every edit until the end.
    steps: list[tuple[str, list[TextEdit]]] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.applied)


FixKey = tuple[str, Path, str]


def _fix_key(finding: Finding) -> FixKey:
    """What makes a fix the same one in the next step: rule, path and description."""
    assert finding.fix is not None
    return finding.rule.id, finding.path, finding.fix.description


def allowed(finding: Finding, template: Template, unsafe: bool) -> bool:
    if finding.fix is None:
        return False
    if unsafe:
        return True
    # Macros other than SAM rewrite the template: no fix can be known to be safe there.
    return finding.fix.applicability is Applicability.SAFE and not template.has_foreign_macros


def _reparse(template: Template, text: str) -> Template:
    return Template.parse(template.source.replace(text=text))


class Intended:
    """The data a template must hold once fixes are applied: its own with their changes.

    With ``fingerprinted``, kept as a fingerprint (see :mod:`cfnfix.fingerprint`) so that
    the template's model may go before the result is parsed; otherwise, or when the data
    holds what a fingerprint cannot follow (a NaN, say), kept as it is. Raises
    :class:`ChangeError` when a change does not fit the data."""

    def __init__(self, root: MapNode, fixes: Iterable[Finding], fingerprinted: bool) -> None:
        expected = dict(root)  # changes copy only what they modify (apply_change)
        for finding in fixes:
            assert finding.fix is not None
            for change in finding.fix.changes:
                apply_change(expected, change)
        self._digest: bytes | None = None
        self._data: dict[str, Any] | None = expected
        if fingerprinted:
            with suppress(Unsupported):  # then kept as it is
                self._digest, self._data = fingerprint(expected), None

    def held_by(self, root: MapNode) -> bool:
        """Whether ``root`` holds exactly the intended data (``==``)."""
        if self._data is not None:
            return bool(root == self._data)
        try:
            return fingerprint(root) == self._digest
        except Unsupported:  # a NaN, which no value of the intended data equals
            return False


def apply_batch(
    template: Template, batch: Sequence[tuple[Finding, Sequence[TextEdit]]]
) -> tuple[Template | None, str]:
    """Apply a batch; return the new template if it holds exactly the intended data."""
    return _verified(
        template, [finding for finding, _ in batch], apply_edits(template.text, _edits(batch))
    )


def _verified(
    template: Template, fixes: list[Finding], text: str, unload: bool = False
) -> tuple[Template | None, str]:
    """The template of ``text``, the result of ``fixes``, if it holds exactly the data
    they intend; else ``None`` and why. With ``unload``, ``template``'s model goes once
    the intended data is known (as a fingerprint), before ``text`` is parsed."""
    intended: Intended | None = None
    failure: Exception | None = None
    try:
        intended = Intended(template.root, fixes, fingerprinted=unload)
    except Exception as exc:  # reported after the parse, as it was when this came after
        failure = exc
    if unload:
        template.unload()
    try:
        new = _reparse(template, text)
    except LoadError as exc:
        return None, f"the result would not parse ({exc})"
    if isinstance(failure, ChangeError):
        return None, f"the fix does not fit the template ({failure})"
    if failure is not None:
        raise failure
    assert intended is not None
    if not intended.held_by(new.root):
        return None, "the result would not hold exactly the intended change"
    return new, ""


@paused()  # renders, parses and checks again and again (see cfnfix.collector)
def fix_template(
    template: Template,
    rules: Sequence[Rule],
    unsafe: bool,
    record_steps: bool = False,
    keep: bool = False,
) -> FixOutcome:
    """Apply safe (and with ``unsafe`` also unsafe) fixes until nothing more applies.

    Each version's model goes once the next version is verified, a large one's before
    its text is parsed (see :meth:`Template.unload` and ``FINGERPRINT_ABOVE``);
    ``template``'s too unless ``keep``: a caller that uses it afterwards spares parsing
    it again."""
    outcome = FixOutcome(template, run_rules(template, rules))
    kept = template if keep else None
    if record_steps:
        outcome.steps = []
    # Applied fixes and fixes whose result failed verification are never tried again.
    # A fix the writer refused is retried after other fixes changed the template.
    done: set[FixKey] = set()
    refused: dict[FixKey, RefusedFix] = {}
    for _ in range(MAX_ITERATIONS):
        if not _step(outcome, done, refused, unsafe, kept):
            break
        # The previous template's findings go before the rules run on the new one (its
        # indexes went in _step): that halves the peak memory of a large fix.
        outcome.result = CheckResult()
        outcome.result = run_rules(outcome.template, rules)
    remaining = {_fix_key(f) for f in outcome.result.findings if f.fix is not None}
    outcome.refused = [r for key, r in refused.items() if key in remaining]
    return outcome


def _step(
    outcome: FixOutcome,
    done: set[FixKey],
    refused: dict[FixKey, RefusedFix],
    unsafe: bool,
    kept: Template | None,
) -> bool:
    """Apply one batch of non-conflicting fixes to ``outcome``; ``False`` when none
    applies. The current version's model goes, unless it is ``kept``."""
    current = outcome.template
    release = current is not kept
    while True:  # a batch whose every fix fails on its own refuses them all: this ends
        batch = _render_batch(current, outcome.result.findings, done, refused, unsafe)
        if not batch:
            return False
        lines = {id(finding): current.location(finding.path).line for finding, _ in batch}
        current.forget_indexes()  # what the rules derived is not needed while re-parsing
        fixes = [finding for finding, _ in batch]
        text = apply_edits(current.text, _edits(batch))
        step = _step_of(current, batch) if outcome.steps is not None else None
        del batch  # its edits: megabytes on a large template, not needed to verify
        early = release and len(current.text) > FINGERPRINT_ABOVE
        new, _ = _verified(current, fixes, text, unload=early)
        if new is None:  # a rule's or the writer's mistake: the fixes sound on their own
            # (rendered again: the same edits, let go of above; rarely needed)
            batch = _render_batch(current, outcome.result.findings, done, refused, unsafe)
            new, batch = _sound_part(current, batch, done, refused)
            fixes = [finding for finding, _ in batch]
            step = _step_of(current, batch) if outcome.steps is not None else None
        if new is not None:
            break
    for finding in fixes:
        key = _rule_id, _path, description = _fix_key(finding)
        line = lines[id(finding)]
        outcome.applied.append(AppliedFix(finding.rule, finding.resource, description, line))
        done.add(key)
        refused.pop(key, None)
    if outcome.steps is not None and step is not None:
        outcome.steps.append(step)
    if release:  # the rules' run on the new version reuses the memory
        current.unload()
    outcome.template = new
    return True


def _step_of(
    current: Template, batch: list[tuple[Finding, list[TextEdit]]]
) -> tuple[str, list[TextEdit]]:
    """A step as ``record_steps`` keeps it: the text and the edits made to it."""
    return current.text, _edits(batch)


def _edits(batch: Sequence[tuple[Finding, Sequence[TextEdit]]]) -> list[TextEdit]:
    """Every edit of a batch's fixes, in order."""
    return [edit for _, edits in batch for edit in edits]


def _sound_part(
    current: Template,
    batch: list[tuple[Finding, list[TextEdit]]],
    done: set[FixKey],
    refused: dict[FixKey, RefusedFix],
) -> tuple[Template | None, list[tuple[Finding, list[TextEdit]]]]:
    """For a batch whose result fails verification: the fixes that are sound on their
    own, applied (the culprits are refused for good); ``None`` if none is."""
    good = []
    for item in batch:
        alone, why = apply_batch(current, [item])
        if alone is None:
            refused[_fix_key(item[0])] = RefusedFix(item[0], why)
            done.add(_fix_key(item[0]))
        else:
            good.append(item)
    if not good:
        return None, []
    new, _ = apply_batch(current, good)
    if new is None:  # sound alone, not together: one at a time
        good = good[:1]
        new, _ = apply_batch(current, good)
        assert new is not None  # verified alone a moment ago
    return new, good


def _render_batch(
    template: Template,
    findings: Sequence[Finding],
    done: set[FixKey],
    refused: dict[FixKey, RefusedFix],
    unsafe: bool,
) -> list[tuple[Finding, list[TextEdit]]]:
    """The fixes to apply together (their edits and claimed paths do not conflict), as
    text edits; the fixes the writer refuses go to ``refused``."""
    writer = Writer(template)
    batch: list[tuple[Finding, list[TextEdit]]] = []
    accepted = Batch()
    for finding in findings:
        if not allowed(finding, template, unsafe) or _fix_key(finding) in done:
            continue
        assert finding.fix is not None
        try:
            rendered = writer.render(list(finding.fix.changes))
        except FixError as exc:
            refused[_fix_key(finding)] = RefusedFix(finding, str(exc))
            continue
        if not accepted.conflicts(rendered):
            accepted.add(rendered)
            batch.append((finding, rendered.edits))
    return batch
