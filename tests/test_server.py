"""`cfnfix server` driven over stdio by a real LSP client (pytest-lsp), as an editor would."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from cfnfix.app import rules_for
from cfnfix.config import Config
from cfnfix.engine import Overrides
from cfnfix.fixer import fix_template
from cfnfix.source import Source
from cfnfix.template import Template

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed"
sys.path.insert(0, str(ROOT / "bench"))
from gen_templates import template as synthetic  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")
TIMEOUT = 60.0  # generous: CI shares two cores with everything else

NON_ASCII = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: "画像処理 🚀 スタック"
Resources:
  Logs: {Metadata: {Note: "ログ 📜 保存"}, Type: AWS::Logs::LogGroup}
"""


class RecordingClient(LanguageClient):
    """Keeps every publishDiagnostics, with its version, in arrival order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.registrations: list[types.Registration] = []


def _client() -> RecordingClient:
    from pygls.protocol import default_converter

    client = RecordingClient(converter_factory=default_converter)
    features = {
        k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k != "textDocument/publishDiagnostics"
    }
    register_lsp_features(client, features)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(c: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
        c.published.append(params)
        c.diagnostics[params.uri] = params.diagnostics

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(c: RecordingClient, params: types.RegistrationParams) -> None:
        c.registrations.extend(params.registrations)

    return client


CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "cfnfix", "server", "--stdio"], client_factory=_client
)


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def client(lsp_client: RecordingClient) -> Any:
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options={"cfnfix": {"unsafeFixes": False}},
    )
    result = await lsp_client.initialize_session(params)
    assert result.capabilities.code_action_provider is not None
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=CONFIG)
async def eager_client(lsp_client: RecordingClient) -> Any:
    """A client that cannot resolve code actions (Emacs' eglot): edits come at once."""
    params = types.InitializeParams(capabilities=client_capabilities("emacs"))
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


# -- a client's side: applying edits, waiting for diagnostics --------------------------


def offset(text: str, position: types.Position) -> int:
    """A character offset from an LSP position (UTF-16 code units), independently of
    the server's helpers."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = line.encode("utf-16-le")[: 2 * position.character]
    return start + len(units.decode("utf-16-le"))


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits as a client does (edits at one position in array order)."""
    spans = [(offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits]
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    out, cursor = [], 0
    for i in order:
        start, end, new = spans[i]
        assert start >= cursor, "overlapping edits"
        out += [text[cursor:start], new]
        cursor = end
    return "".join(out) + text[cursor:]


async def diagnostics_for(
    client: RecordingClient, uri: str, version: int, seen: int = 0
) -> list[types.Diagnostic]:
    """The diagnostics published for ``version`` of ``uri`` (after ``seen`` publishes)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for params in client.published[seen:]:
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no diagnostics for {uri} version {version}")


def open_doc(client: RecordingClient, uri: str, text: str, language: str = "yaml") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
    )


def change(client: RecordingClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text)],
        )
    )


def close(client: RecordingClient, uri: str) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )


async def actions(
    client: RecordingClient, uri: str, rng: types.Range, only: list[str] | None = None
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            rng,
            types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    found = []
    for action in result or []:
        assert isinstance(action, types.CodeAction)
        if action.edit is None:  # offered lazily: the edit comes when it is chosen
            action = await client.code_action_resolve_async(action)
        found.append(action)
    return found


def whole(text: str) -> types.Range:
    lines = text.split("\n")
    return types.Range(types.Position(0, 0), types.Position(len(lines), 0))


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None and action.edit.changes is not None
    return list(action.edit.changes[uri])  # type: ignore[arg-type]


def fixed_in_process(text: str, name: str, unsafe: bool = False) -> str:
    """What `cfnfix fix` makes of ``text`` (the default configuration)."""
    template = Template.parse(Source.from_text(text, name))
    return fix_template(template, rules_for(Config(), Overrides()), unsafe).template.text


def safe_fixable(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.data and str(d.data.get("fix", "")).startswith("safe")]


# -- the seed's broken stack, YAML and JSON -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "language"),
    [("image-processing-broken.yaml", "yaml"), ("image-processing-broken.json", "json")],
)
async def test_seed_template_diagnostics_and_fix_all(
    client: RecordingClient, name: str, language: str
) -> None:
    text = (SEED / name).read_text()
    uri = (SEED / name).as_uri()
    open_doc(client, uri, text, language)
    diagnostics = await diagnostics_for(client, uri, 1)
    codes = {d.code for d in diagnostics}
    assert {"HC001", "DL001", "TG001"} <= codes
    for d in diagnostics:
        assert d.source == "cfnfix"
        assert d.code_description is not None
        assert d.code_description.href.endswith(f"docs/rules.md#{str(d.code).lower()}")
        assert d.severity in (
            types.DiagnosticSeverity.Error,
            types.DiagnosticSeverity.Warning,
            types.DiagnosticSeverity.Information,
        )
    assert safe_fixable(diagnostics)

    fix_all = await actions(client, uri, whole(text), ["source.fixAll"])
    assert [a.kind for a in fix_all] == ["source.fixAll.cfnfix"]
    new = apply(text, edits_of(fix_all[0], uri))
    # Exactly what `cfnfix fix` writes: the fixer's verified result, as minimal edits.
    assert new == fixed_in_process(text, name)
    assert len(edits_of(fix_all[0], uri)) > 1  # not one whole-document replacement

    change(client, uri, 2, new)
    after = await diagnostics_for(client, uri, 2)
    assert not safe_fixable(after)
    assert await actions(client, uri, whole(new), ["source.fixAll.cfnfix"]) == []
    close(client, uri)


async def test_quick_fixes_one_per_fixable_finding(client: RecordingClient) -> None:
    path = SEED / "image-processing-broken.yaml"
    text = path.read_text()
    uri = "untitled:quick-fixes.yaml"
    open_doc(client, uri, text)
    diagnostics = await diagnostics_for(client, uri, 1)
    fixable = [d for d in diagnostics if d.data and d.data.get("fix")]
    assert fixable
    unsafe_seen = safe_seen = False
    for d in fixable[:8]:
        found = await actions(client, uri, d.range, ["quickfix"])
        mine = [a for a in found if a.diagnostics and a.diagnostics[0].code == d.code]
        fixes = [a for a in mine if not a.title.startswith("Suppress")]
        # One per finding: the finding's own (several findings may share a range).
        same = [x for x in fixable if x.range == d.range and x.code == d.code]
        assert len(fixes) == len(same)
        fix = fixes[0]
        assert fix.kind == types.CodeActionKind.QuickFix
        description = str(d.data["fix"]).split(": ", 1)[1]
        assert description in fix.title
        if str(d.data["fix"]).startswith("unsafe"):
            unsafe_seen = True
            assert "(unsafe fix)" in fix.title and fix.is_preferred is False
        else:
            safe_seen = True
            assert fix.is_preferred is True
        # The edit re-parses to the template the fix intends (the server verified it).
        new = apply(text, edits_of(fix, uri))
        Template.parse(Source.from_text(new, "x.yaml"))
    assert safe_seen and unsafe_seen
    close(client, uri)


async def test_suppress_action_writes_a_suppression(client: RecordingClient) -> None:
    text = (SEED / "image-processing-broken.yaml").read_text()
    uri = "untitled:suppress.yaml"
    open_doc(client, uri, text)
    diagnostics = await diagnostics_for(client, uri, 1)
    target = next(d for d in diagnostics if d.code == "RT003")
    found = await actions(client, uri, target.range, ["quickfix"])
    suppress = next(a for a in found if a.title.startswith("Suppress RT003"))
    assert suppress.is_preferred is False
    new = apply(text, edits_of(suppress, uri))
    assert "- id: RT003" in new and "reason: ''" in new
    change(client, uri, 2, new)
    after = await diagnostics_for(client, uri, 2)
    assert not any(d.code == "RT003" for d in after)
    # The reason is the user's to write, and SP002 says so where it goes.
    assert any(d.code == "SP002" for d in after)
    close(client, uri)


# -- positions: UTF-16 code units --------------------------------------------------------


async def test_non_ascii_text_before_a_finding(client: RecordingClient) -> None:
    uri = "untitled:non-ascii.yaml"
    open_doc(client, uri, NON_ASCII)
    diagnostics = await diagnostics_for(client, uri, 1)
    rt001 = next(d for d in diagnostics if d.code == "RT001")
    line = NON_ASCII.split("\n")[3]
    assert rt001.range.start == types.Position(3, 2)
    # The line ends after "📜" (two UTF-16 units) and CJK (one each): UTF-16 length.
    assert rt001.range.end == types.Position(3, len(line.encode("utf-16-le")) // 2)
    assert rt001.range.end.character == len(line) + 1

    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(3, 40))
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "What it does" in hover.contents.value and "Why is this bad?" in hover.contents.value
    assert "RT001" in hover.contents.value

    found = await actions(client, uri, rt001.range, ["quickfix"])
    fix = next(a for a in found if a.title.startswith("RT001"))
    new = apply(NON_ASCII, edits_of(fix, uri))
    assert 'Note: "ログ 📜 保存"}, Type: AWS::Logs::LogGroup, Properties: {' in new
    fix_all = await actions(client, uri, whole(NON_ASCII), ["source.fixAll.cfnfix"])
    assert apply(NON_ASCII, edits_of(fix_all[0], uri)) == fixed_in_process(NON_ASCII, "t.yaml")
    close(client, uri)


async def test_client_without_resolve_gets_edits_at_once(eager_client: RecordingClient) -> None:
    uri = "untitled:eager.yaml"
    open_doc(eager_client, uri, NON_ASCII)
    diagnostics = await diagnostics_for(eager_client, uri, 1)
    result = await eager_client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            whole(NON_ASCII),
            types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert result and all(isinstance(a, types.CodeAction) and a.edit for a in result)
    kinds = [a.kind for a in result if isinstance(a, types.CodeAction)]
    assert kinds.count("quickfix") == 4 and kinds.count("source.fixAll.cfnfix") == 1
    fix_all = next(a for a in result if isinstance(a, types.CodeAction) and a.kind != "quickfix")
    new = apply(NON_ASCII, edits_of(fix_all, uri))
    assert new == fixed_in_process(NON_ASCII, "t.yaml")
    close(eager_client, uri)


async def test_stale_lazy_action_gets_no_edit(client: RecordingClient) -> None:
    uri = "untitled:stale.yaml"
    open_doc(client, uri, NON_ASCII)
    await diagnostics_for(client, uri, 1)
    offered = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            whole(NON_ASCII),
            types.CodeActionContext(diagnostics=[], only=["source.fixAll.cfnfix"]),
        )
    )
    assert offered and isinstance(offered[0], types.CodeAction) and offered[0].edit is None
    change(client, uri, 2, NON_ASCII + "  More:\n    Type: AWS::Logs::LogGroup\n")
    resolved = await client.code_action_resolve_async(offered[0])
    assert resolved.edit is None  # an edit of version 1 would corrupt version 2
    close(client, uri)


# -- bad input: no crash, nothing stale ---------------------------------------------------


async def test_malformed_then_non_template_then_template(client: RecordingClient) -> None:
    uri = "untitled:malformed.yaml"
    good = (SEED / "image-processing-broken.yaml").read_text()
    open_doc(client, uri, good)
    assert await diagnostics_for(client, uri, 1)
    broken = good.replace("Resources:", "Resources: [", 1)
    change(client, uri, 2, broken)
    malformed = await diagnostics_for(client, uri, 2)
    assert len(malformed) == 1
    assert malformed[0].severity == types.DiagnosticSeverity.Error
    assert "invalid YAML" in malformed[0].message
    assert malformed[0].code is None

    change(client, uri, 3, "name: my-app\nversion: 3\nservices: [web, worker]\n")
    assert await diagnostics_for(client, uri, 3) == []  # not a template: nothing left
    change(client, uri, 4, "{")
    assert await diagnostics_for(client, uri, 4) == []  # no template markers: nothing
    change(client, uri, 5, good)
    assert await diagnostics_for(client, uri, 5)
    close(client, uri)
    seen = len(client.published)
    await asyncio.sleep(0.1)
    assert not client.diagnostics[uri]  # closing clears what was shown
    assert all(p.uri != uri or not p.diagnostics for p in client.published[seen:])


async def test_too_large_document_gets_one_diagnostic(client: RecordingClient) -> None:
    uri = "untitled:huge.yaml"
    huge = synthetic(40) + "#" * (6 * 1024 * 1024) + "\n"
    open_doc(client, uri, huge)
    diagnostics = await diagnostics_for(client, uri, 1)
    assert len(diagnostics) == 1 and "too large" in diagnostics[0].message
    close(client, uri)


async def test_changes_faster_than_checks(client: RecordingClient) -> None:
    """Twenty changes with no pause: the last version's diagnostics are the ones shown,
    and no diagnostics of an older version arrive after them."""
    uri = "untitled:typing.yaml"
    base = (SEED / "image-processing-broken.yaml").read_text()
    open_doc(client, uri, base)
    await diagnostics_for(client, uri, 1)
    seen = len(client.published)
    texts = [base + f"  Extra{n}:\n    Type: AWS::Logs::LogGroup\n" * (n % 3) for n in range(20)]
    for version, text in enumerate(texts, start=2):
        change(client, uri, version, text)
    final = await diagnostics_for(client, uri, len(texts) + 1, seen)
    await asyncio.sleep(0.5)
    mine = [p for p in client.published[seen:] if p.uri == uri]
    assert mine[-1].version == len(texts) + 1
    versions = [p.version for p in mine]
    assert versions == sorted(versions)  # never an older version after a newer one
    assert len(mine) < len(texts)  # debounced: typing does not check every keystroke
    expected = {d.code for d in await _fresh(client, "untitled:typing-check.yaml", texts[-1])}
    assert {d.code for d in final} == expected
    close(client, uri)


async def _fresh(client: RecordingClient, uri: str, text: str) -> list[types.Diagnostic]:
    open_doc(client, uri, text)
    result = await diagnostics_for(client, uri, 1)
    close(client, uri)
    return result


async def test_large_document_does_not_block_a_small_one(client: RecordingClient) -> None:
    """The 2,000-resource benchmark template is being checked when a small document
    opens: the small one's diagnostics arrive first."""
    big_uri, small_uri = "untitled:big.yaml", "untitled:small.yaml"
    big = synthetic(2000)
    seen = len(client.published)
    open_doc(client, big_uri, big)
    await asyncio.sleep(0.05)
    open_doc(client, small_uri, NON_ASCII)
    await diagnostics_for(client, small_uri, 1, seen)
    big_diagnostics = await diagnostics_for(client, big_uri, 1, seen)
    order = [p.uri for p in client.published[seen:]]
    assert order.index(small_uri) < order.index(big_uri)
    assert len(big_diagnostics) > 2000

    close(client, big_uri)
    close(client, small_uri)


# -- configuration ----------------------------------------------------------------------


async def test_settings_from_the_client(client: RecordingClient) -> None:
    uri = "untitled:settings.yaml"
    text = (SEED / "image-processing-broken.yaml").read_text()
    open_doc(client, uri, text)
    before = await diagnostics_for(client, uri, 1)
    assert any(str(d.code).startswith("RT") for d in before)

    seen = len(client.published)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"cfnfix": {"ignore": ["RT"], "unsafeFixes": True}})
    )
    after = await diagnostics_for(client, uri, 1, seen)
    assert after and not any(str(d.code).startswith("RT") for d in after)
    fix_all = await actions(client, uri, whole(text), ["source.fixAll.cfnfix"])
    assert "unsafe" in fix_all[0].title

    seen = len(client.published)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"cfnfix": {}}))
    restored = await diagnostics_for(client, uri, 1, seen)
    assert {d.code for d in restored} == {d.code for d in before}
    close(client, uri)


async def test_configuration_file_discovery_and_reload(
    client: RecordingClient, tmp_path: Path
) -> None:
    assert any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in client.registrations)
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    config = project / "pyproject.toml"
    config.write_text('[tool.cfnfix]\nselect = ["RT003"]\n')
    template = project / "stacks" / "stack.yaml"
    text = (SEED / "image-processing-broken.yaml").read_text()
    template.write_text(text)
    uri = template.as_uri()
    open_doc(client, uri, text)
    assert {d.code for d in await diagnostics_for(client, uri, 1)} == {"RT003"}

    seen = len(client.published)
    config.write_text('[tool.cfnfix]\nselect = ["TG001"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(config.as_uri(), types.FileChangeType.Changed)]
        )
    )
    assert {d.code for d in await diagnostics_for(client, uri, 1, seen)} == {"TG001"}

    seen = len(client.published)
    config.write_text('[tool.cfnfix]\nselect = ["NOPE999"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(config.as_uri(), types.FileChangeType.Changed)]
        )
    )
    bad = await diagnostics_for(client, uri, 1, seen)
    assert len(bad) == 1 and "configuration error" in bad[0].message

    # A client that watches nothing: saving the configuration file in the editor reloads.
    seen = len(client.published)
    config.write_text('[tool.cfnfix]\nselect = ["RT003", "TG001"]\n')
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(config.as_uri()))
    )
    assert {d.code for d in await diagnostics_for(client, uri, 1, seen)} == {"RT003", "TG001"}

    # Saving the template itself re-publishes what is known, without stale leftovers.
    seen = len(client.published)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    assert {d.code for d in await diagnostics_for(client, uri, 1, seen)} == {"RT003", "TG001"}
    close(client, uri)


async def test_incremental_change_after_non_ascii_text(client: RecordingClient) -> None:
    """An editor's incremental edit, positioned in UTF-16 units after an emoji."""
    uri = "untitled:incremental.yaml"
    open_doc(client, uri, NON_ASCII)
    before = await diagnostics_for(client, uri, 1)
    assert any(d.code == "RT001" for d in before)
    line = NON_ASCII.split("\n")[3]
    start = len(line[: line.index("AWS::Logs::LogGroup")].encode("utf-16-le")) // 2
    end = start + len("AWS::Logs::LogGroup")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(3, start), types.Position(3, end)),
                    text="AWS::SNS::Topic",
                )
            ],
        )
    )
    after = await diagnostics_for(client, uri, 2)
    assert not any(d.code == "RT001" for d in after)  # no longer a log group
    assert any(d.code == "TG001" for d in after)
    # The server's text is the client's: its fix-all edits give `cfnfix fix`'s result.
    text = NON_ASCII.replace("AWS::Logs::LogGroup", "AWS::SNS::Topic")
    fix_all = await actions(client, uri, whole(text), ["source.fixAll.cfnfix"])
    assert apply(text, edits_of(fix_all[0], uri)) == fixed_in_process(text, "t.yaml")
    close(client, uri)
