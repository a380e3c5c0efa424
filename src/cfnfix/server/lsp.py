"""``cfnfix server``: the Language Server Protocol server (pygls 2, stdio).

Checks run in a pool of worker threads, at most one at a time per document: a change
cancels the check waiting to start (edits are debounced), a result for a version that
is no longer the document's is dropped, and a slow document occupies one worker while
the others serve the rest. Code actions and hovers reuse the last check of the current
version (or run one). See docs/editors.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from cfnfix import __version__, app
from cfnfix.config import CONFIG_FILES, find_config
from cfnfix.output.sarif_format import RULES_DOC_URL, is_builtin, rule_anchor
from cfnfix.rule import Rule, Severity
from cfnfix.server.analysis import (
    Action,
    Analysis,
    ClientSettings,
    Item,
    Problem,
    analyze,
    diff_edits,
)
from cfnfix.server.positions import UTF16, LineIndex
from cfnfix.writer import TextEdit
from cfnfix.writer.edits import in_order

log = logging.getLogger("cfnfix.server")
CONVERTER = default_converter()  # type: ignore[no-untyped-call]

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.cfnfix"
DEBOUNCE_SECONDS = 0.15  # after a didChange, before checking: typing goes on meanwhile
WORKERS = 4
_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


@dataclass
class Checked:
    """One check of one document version, under one configuration generation."""

    version: int | None
    generation: int
    analysis: Analysis
    lines: LineIndex
    diagnostics: list[dict[str, Any]]  # as JSON: items' first, in order, then problems'


def rule_href(rule: type[Rule]) -> str | None:
    """The documentation of a built-in rule: the same stable URL as SARIF's helpUri.

    A URL, not a file URI: docs/ is not installed with the package, and the link works
    from any editor on any machine. Third-party rules have no page there."""
    return f"{RULES_DOC_URL}#{rule_anchor(rule.id)}" if is_builtin(rule) else None


def _range(lines: LineIndex, start: int, end: int) -> types.Range:
    sl, sc = lines.position(start)
    el, ec = lines.position(end)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def _json_range(lines: LineIndex, start: int, end: int) -> dict[str, Any]:
    sl, sc = lines.position(start)
    el, ec = lines.position(end)
    return {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}


def diagnostics_of(analysis: Analysis, lines: LineIndex) -> list[dict[str, Any]]:
    """The LSP diagnostics, as JSON. Plain data rather than lsprotocol objects: for the
    4,800 findings of the 2,000-resource benchmark template, building and converting
    those objects took three times as long as this (0.87 s against 0.26 s, measured
    while the machine was busy)."""
    result: list[dict[str, Any]] = []
    for item in analysis.items:
        rule = type(item.finding.rule)
        fix = item.finding.fix
        diagnostic: dict[str, Any] = {
            "range": _json_range(lines, item.start, item.end),
            "message": item.finding.message,
            "severity": _SEVERITIES[item.finding.effective_severity].value,
            "code": rule.id,
            "source": "cfnfix",
            "data": {
                "name": rule.name,
                "fix": None
                if fix is None
                else ("safe" if item.safe else "unsafe") + ": " + fix.description,
            },
        }
        href = rule_href(rule)
        if href:
            diagnostic["codeDescription"] = {"href": href}
        result.append(diagnostic)
    for problem in analysis.problems:
        result.append(
            {
                "range": _json_range(lines, problem.start, problem.end),
                "message": problem.message,
                "severity": types.DiagnosticSeverity.Error.value,
                "source": "cfnfix",
            }
        )
    return result


def lsp_edits(lines: LineIndex, edits: Sequence[TextEdit]) -> list[types.TextEdit]:
    """LSP edits in the order :func:`cfnfix.writer.apply_edits` applies them (LSP applies
    edits at one position in array order), an idempotent edit asked for twice once."""
    return [
        types.TextEdit(_range(lines, edit.start, edit.end), edit.replacement)
        for edit in in_order(edits)
    ]


def hover_text(items: Sequence[Item]) -> str:
    parts = []
    seen: set[str] = set()
    for item in items:
        rule = type(item.finding.rule)
        header = f"**{rule.id}** `{rule.name}`: {item.finding.message}"
        if rule.id in seen:
            parts.append(header)
            continue
        seen.add(rule.id)
        href = rule_href(rule)
        doc = [
            header,
            "",
            "#### What it does",
            "",
            rule.what.strip(),
            "",
            "#### Why is this bad?",
            "",
            rule.why.strip(),
        ]
        if item.finding.fix is not None:
            safety = "safe" if item.safe else "unsafe"
            doc += ["", f"*Fix ({safety}):* {item.finding.fix.description}"]
        if href:
            doc += ["", f"[Documentation]({href})"]
        parts.append("\n".join(doc))
    return "\n\n---\n\n".join(parts)


class CfnfixLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("cfnfix", __version__)
        self.settings = ClientSettings()
        self.generation = 0  # bumped when settings or configuration files change
        self.checked: dict[str, Checked] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.running: dict[str, asyncio.Future[Checked]] = {}
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="cfnfix-check")
        self.resolves_edits = False  # the client asks for a code action's edit on choosing it

    # -- documents ---------------------------------------------------------------------

    def document(self, uri: str) -> TextDocument | None:
        """An open document (never one pygls would read from disk)."""
        doc: TextDocument | None = self.workspace.text_documents.get(unquote(uri))
        return doc

    def folder_of(self, path: Path | None) -> Path | None:
        folders = []
        for folder in self.workspace.folders.values():
            fs = to_fs_path(folder.uri)
            if fs:
                folders.append(Path(fs))
        if path is not None:
            inside = [f for f in folders if f == path or f in path.parents]
            if inside:
                return max(inside, key=lambda f: len(f.parts))
        root = self.workspace.root_path
        return folders[0] if folders else Path(root) if root else None

    def encoding(self) -> str:
        encoding = self.workspace.position_encoding
        if isinstance(encoding, types.PositionEncodingKind):
            return str(encoding.value)
        return encoding or UTF16

    def run_check(self, uri: str, text: str, version: int | None, language: str | None) -> Checked:
        """In a worker thread: check one version of a document. Never raises."""
        generation = self.generation
        fs = to_fs_path(uri) if uri.startswith("file:") else None
        path = Path(fs) if fs else None
        name = path.name if path else unquote(uri.rsplit("/", 1)[-1]) or "untitled"
        if language == "json" and not name.lower().endswith(".json"):
            name += ".json"
        started = time.perf_counter()
        lines = LineIndex(text, self.encoding())
        try:
            analysis = analyze(text, name, self.settings, path, self.folder_of(path))
            diagnostics = diagnostics_of(analysis, lines)
        except Exception as exc:  # a cfnfix bug: shown on the document, never a crash
            log.exception("checking %s failed", uri)
            analysis = Analysis(text)
            analysis.problems.append(Problem(f"internal error: {type(exc).__name__}: {exc}"))
            diagnostics = diagnostics_of(analysis, lines)
        log.debug(
            "%s version %s: %d diagnostics in %.3f s",
            uri,
            version,
            len(diagnostics),
            time.perf_counter() - started,
        )
        return Checked(version, generation, analysis, lines, diagnostics)

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Check ``uri`` after ``delay`` seconds, replacing a check that has not started."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.pending[uri] = asyncio.ensure_future(self._check(uri, delay))

    async def _check(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        # One check per document at a time: wait for the running one.
        while (running := self.running.get(uri)) is not None:
            await asyncio.wait([running])
        doc = self.document(uri)
        if doc is None:
            return
        current = self.checked.get(uri)
        if current and current.version == doc.version and current.generation == self.generation:
            self.publish(uri, current)  # already checked (a didSave after a change, say)
            return
        # Shielded: a newer change cancels this task, not the check running in a thread
        # (which stays "running" until it ends, so the next check waits for it).
        checked = await asyncio.shield(self.check_now(uri, doc))
        latest = self.document(uri)
        if latest is None or latest.version != checked.version:
            return  # stale: the check of the newer version publishes
        if checked.generation != self.generation:
            return  # the configuration changed meanwhile: a new check is scheduled
        self.publish(uri, checked)

    def check_now(self, uri: str, doc: TextDocument) -> asyncio.Future[Checked]:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self.pool, self.run_check, uri, doc.source, doc.version, doc.language_id
        )
        self.running[uri] = future

        def done(f: asyncio.Future[Checked]) -> None:
            if self.running.get(uri) is f:
                del self.running[uri]
            if not f.cancelled() and f.exception() is None:
                result = f.result()
                latest = self.document(uri)
                if latest is not None and latest.version == result.version:
                    previous = self.checked.get(uri)
                    if previous is None or previous.generation <= result.generation:
                        self.checked[uri] = result

        future.add_done_callback(done)
        return future

    def publish(self, uri: str, checked: Checked) -> None:
        # Sent as JSON built in the worker (see diagnostics_of); pygls' notify() only
        # takes lsprotocol objects.
        params = {"uri": uri, "diagnostics": checked.diagnostics, "version": checked.version}
        self.protocol._send_data(
            {"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, "params": params}
        )

    async def current(self, uri: str) -> Checked | None:
        """The check of the document's current version (running one if needed)."""
        doc = self.document(uri)
        if doc is None:
            return None
        checked = self.checked.get(uri)
        if checked and checked.version == doc.version and checked.generation == self.generation:
            return checked
        while (running := self.running.get(uri)) is not None:
            await asyncio.wait([running])
        checked = self.checked.get(uri)
        if checked and checked.version == doc.version and checked.generation == self.generation:
            return checked
        return await asyncio.shield(self.check_now(uri, doc))

    def forget(self, uri: str) -> None:
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.checked.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def recheck_all(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)

    # -- configuration -----------------------------------------------------------------

    def apply_settings(self, data: Any) -> None:
        settings, problems = ClientSettings.from_json(data)
        for problem in problems:
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Warning, f"cfnfix: {problem}")
            )
        if settings != self.settings:
            self.settings = settings
            self.reload()

    def reload(self) -> None:
        """Configuration files or settings changed: forget what was read, check again."""
        find_config.cache_clear()
        app.rules_for.cache_clear()
        self.generation += 1
        self.recheck_all()

    # -- code actions ------------------------------------------------------------------

    def action(
        self,
        uri: str,
        checked: Checked,
        action: Action,
        kind: str,
        diagnostics: list[types.Diagnostic],
        lazy: dict[str, Any] | None = None,
    ) -> types.CodeAction:
        """A code action; with ``lazy`` (what to resolve), its edit comes on resolve."""
        edit = None
        data = None
        if lazy is None:
            edit = types.WorkspaceEdit(changes={uri: lsp_edits(checked.lines, action.edits)})
        else:
            data = {"uri": uri, "version": checked.version, "generation": checked.generation}
            data.update(lazy)
        return types.CodeAction(
            title=action.title,
            kind=kind,
            diagnostics=diagnostics or None,
            is_preferred=action.preferred,
            edit=edit,
            data=data,
        )

    def code_actions(
        self, uri: str, checked: Checked, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        """In a worker thread (verifying fixes re-parses the template). A client that
        resolves edits gets them only for the action chosen: on a large template,
        verifying every offered fix (and running "fix all") would take seconds."""
        wants = _wanted(params.context.only)
        lazy = self.resolves_edits
        analysis = checked.analysis
        lines = checked.lines
        result: list[types.CodeAction] = []
        quickfix = types.CodeActionKind.QuickFix.value
        if wants(quickfix):
            start = lines.offset(params.range.start.line, params.range.start.character)
            end = lines.offset(params.range.end.line, params.range.end.character)
            index = {id(item): i for i, item in enumerate(analysis.items)}
            fixes, suppressions = [], []
            for item in analysis.at(start, end):
                n = index[id(item)]
                diagnostic = [CONVERTER.structure(checked.diagnostics[n], types.Diagnostic)]
                fix = analysis.quick_fix(item, verify=not lazy)
                if fix is not None:
                    todo = {"what": "fix", "item": n} if lazy else None
                    fixes.append(self.action(uri, checked, fix, quickfix, diagnostic, todo))
                suppression = analysis.suppression(item, verify=not lazy)
                if suppression is not None:
                    todo = {"what": "suppress", "item": n} if lazy else None
                    suppressions.append(
                        self.action(uri, checked, suppression, quickfix, diagnostic, todo)
                    )
            result += fixes + suppressions
        if wants(FIX_ALL_KIND) and analysis.can_fix_all():
            title = "cfnfix: fix all" + (
                " (safe and unsafe fixes)" if analysis.unsafe else " safe fixes"
            )
            if lazy:
                result.append(
                    self.action(uri, checked, Action(title, ()), FIX_ALL_KIND, [], {"what": "all"})
                )
            else:
                edits = self.fix_all_edits(checked)
                if edits is not None:
                    result.append(self.action(uri, checked, Action(title, edits), FIX_ALL_KIND, []))
        return result

    def fix_all_edits(self, checked: Checked) -> tuple[TextEdit, ...] | None:
        new = checked.analysis.fix_all()
        return None if new is None else tuple(diff_edits(checked.analysis.text, new))

    def resolve_edits(self, checked: Checked, data: dict[str, Any]) -> tuple[TextEdit, ...] | None:
        """In a worker thread: the verified edits of a lazily offered action."""
        analysis = checked.analysis
        what = data.get("what")
        if what == "all":
            return self.fix_all_edits(checked)
        n = data.get("item")
        if not isinstance(n, int) or not 0 <= n < len(analysis.items):
            return None
        item = analysis.items[n]
        action = analysis.quick_fix(item) if what == "fix" else analysis.suppression(item)
        return None if action is None else action.edits


def _wanted(only: Sequence[str] | None) -> Any:
    """Whether a kind was asked for: ``only`` lists kinds or their parents."""

    def wants(kind: str) -> bool:
        if not only:
            return True
        return any(kind == k or kind.startswith(f"{k}.") for k in map(str, only))

    return wants


server = CfnfixLanguageServer()


@server.feature(types.INITIALIZE)
def initialize(ls: CfnfixLanguageServer, params: types.InitializeParams) -> None:
    document = params.capabilities.text_document
    resolve = document.code_action.resolve_support if document and document.code_action else None
    ls.resolves_edits = resolve is not None and "edit" in resolve.properties
    if params.initialization_options is not None:
        settings, problems = ClientSettings.from_json(params.initialization_options)
        ls.settings = settings
        for problem in problems:
            log.warning("%s", problem)


@server.feature(types.INITIALIZED)
async def initialized(ls: CfnfixLanguageServer, params: types.InitializedParams) -> None:
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if watched and watched.dynamic_registration:
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
        registration = types.Registration(
            id="cfnfix-config-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers),
        )
        try:
            await ls.client_register_capability_async(types.RegistrationParams([registration]))
        except Exception as exc:  # the client refused: saving a config file still reloads
            log.warning("could not watch configuration files: %s", exc)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: CfnfixLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: CfnfixLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: CfnfixLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if unquote(uri).rsplit("/", 1)[-1] in CONFIG_FILES:
        ls.reload()  # a configuration file edited in the editor itself
    else:
        ls.schedule(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: CfnfixLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.forget(params.text_document.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: CfnfixLanguageServer, params: types.DidChangeConfigurationParams
) -> None:
    data = params.settings
    caps = ls.client_capabilities.workspace
    if not data and caps and caps.configuration:  # "pull" clients send no settings
        try:
            pulled = await ls.workspace_configuration_async(
                types.ConfigurationParams([types.ConfigurationItem(section="cfnfix")])
            )
            data = pulled[0] if pulled else None
        except Exception as exc:
            log.warning("could not read the client's settings: %s", exc)
            return
    ls.apply_settings(data)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(
    ls: CfnfixLanguageServer, params: types.DidChangeWatchedFilesParams
) -> None:
    if any(unquote(c.uri).rsplit("/", 1)[-1] in CONFIG_FILES for c in params.changes):
        ls.reload()


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
        resolve_provider=True,
    ),
)
async def code_action(
    ls: CfnfixLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    checked = await ls.current(uri)
    if checked is None or checked.analysis.template is None:
        return None
    loop = asyncio.get_running_loop()
    actions = await loop.run_in_executor(ls.pool, ls.code_actions, uri, checked, params)
    doc = ls.document(uri)
    if doc is None or doc.version != checked.version:
        return None  # the document changed while the edits were computed
    return actions or None


@server.feature(types.CODE_ACTION_RESOLVE)
async def code_action_resolve(
    ls: CfnfixLanguageServer, action: types.CodeAction
) -> types.CodeAction:
    data = action.data
    if action.edit is not None or not isinstance(data, dict) or "uri" not in data:
        return action
    uri = str(data["uri"])
    checked = await ls.current(uri)
    if (
        checked is None
        or checked.version != data.get("version")
        or checked.generation != data.get("generation")
    ):
        return action  # the document changed since the action was offered: no edit
    loop = asyncio.get_running_loop()
    edits = await loop.run_in_executor(ls.pool, ls.resolve_edits, checked, data)
    if edits is None:
        ls.window_show_message(
            types.ShowMessageParams(
                types.MessageType.Warning,
                f"cfnfix: {action.title}: refused (the result would not re-parse to exactly "
                "the intended template)",
            )
        )
        return action
    doc = ls.document(uri)
    if doc is not None and doc.version == checked.version:
        action.edit = types.WorkspaceEdit(changes={uri: lsp_edits(checked.lines, edits)})
    return action


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: CfnfixLanguageServer, params: types.HoverParams) -> types.Hover | None:
    checked = await ls.current(params.text_document.uri)
    if checked is None:
        return None
    offset = checked.lines.offset(params.position.line, params.position.character)
    items = [i for i in checked.analysis.at(offset, offset) if i.start < i.end]
    if not items:
        return None
    start = min(i.start for i in items)
    end = max(i.end for i in items)
    return types.Hover(
        contents=types.MarkupContent(types.MarkupKind.Markdown, hover_text(items)),
        range=_range(checked.lines, start, end),
    )


def main() -> None:
    """Serve on stdin/stdout until the client says exit."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="cfnfix server: %(levelname)s: %(message)s",
    )
    if os.environ.get("CFNFIX_DEBUG"):  # cfnfix's own timings; not pygls' message dumps
        log.setLevel(logging.DEBUG)
    server.start_io()
