"""The server's pure helpers: positions in UTF-16 (and UTF-8/UTF-32), edits, settings."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cfnfix.server.analysis import ClientSettings, analyze, diff_edits
from cfnfix.server.positions import UTF8, UTF16, UTF32, LineIndex, length
from cfnfix.source import BOM
from cfnfix.writer import apply_edits

TEXT = "a😀b\n漢字🚀x\r\nlast𝄞"


def test_utf16_lengths() -> None:
    assert length("😀", UTF16) == 2 and length("漢", UTF16) == 1 and length("a", UTF16) == 1
    assert length("😀", UTF8) == 4 and length("漢", UTF8) == 3 and length("é", UTF8) == 2
    assert length("😀漢", UTF32) == 2


def test_positions_count_utf16_code_units() -> None:
    lines = LineIndex(TEXT)
    assert lines.position(TEXT.index("b")) == (0, 3)  # after the emoji: two units
    assert lines.position(TEXT.index("x")) == (1, 4)  # CJK: one unit each, rocket: two
    assert lines.position(TEXT.index("last")) == (2, 0)  # "\r\n" is one line break
    assert lines.position(len(TEXT)) == (2, 6)  # 𝄞 is outside the BMP
    # Inside "\r\n": the end of its line, never between "\r" and "\n".
    assert lines.position(TEXT.index("\r\n") + 1) == (1, 5)


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_offset_and_position_round_trip(encoding: str) -> None:
    lines = LineIndex(TEXT, encoding)
    for offset, char in enumerate(TEXT):
        if char == "\n" and TEXT[offset - 1] == "\r":
            continue  # inside a line break
        line, character = lines.position(offset)
        assert lines.offset(line, character) == offset


def test_offsets_clamp_like_lsp() -> None:
    lines = LineIndex(TEXT)
    assert lines.offset(0, 2) == 1  # in the middle of a surrogate pair: its start
    assert lines.offset(0, 999) == TEXT.index("\n")  # past the line's end: its end
    assert lines.offset(99, 0) == len(TEXT)
    assert lines.offset(1, 999) == TEXT.index("\r\n")


def test_cfnfix_columns_are_characters() -> None:
    text = 'x: "漢😀"\ny: 1\n'
    lines = LineIndex(text)
    assert lines.cfnfix_position(1, 8) == (0, 8)  # the closing quote: 7 chars, 8 units
    assert lines.cfnfix_position(2, 1) == (1, 0)


def test_findings_after_a_bom_and_non_ascii_text() -> None:
    text = BOM + "Resources: {Logs: {Metadata: {Note: 'ログ📜'}, Type: AWS::Logs::LogGroup}}\n"
    analysis = analyze(text, "t.yaml", ClientSettings(select=("RT001",)))
    (item,) = analysis.items
    assert text[item.start : item.end].startswith("Logs:")
    assert text[item.end - 1] == "}"
    action = analysis.quick_fix(item)
    assert action is not None
    fixed = apply_edits(text, list(action.edits))
    assert fixed.startswith(BOM) and "RetentionInDays" in fixed


def test_diff_edits_are_minimal_and_exact() -> None:
    rng = random.Random(14)
    words = ["a\n", "b\n", "c", "\r\n", "😀\n", "", "x: 1\n"]
    for _ in range(300):
        old = "".join(rng.choice(words) for _ in range(rng.randrange(8)))
        new = "".join(rng.choice(words) for _ in range(rng.randrange(8)))
        assert apply_edits(old, diff_edits(old, new)) == new
    old = "".join(f"line {n}\n" for n in range(100))
    new = old.replace("line 50\n", "line fifty\n")
    (edit,) = diff_edits(old, new)
    assert old[edit.start : edit.end] == "line 50\n" and edit.replacement == "line fifty\n"


def test_client_settings() -> None:
    settings, problems = ClientSettings.from_json(
        {"cfnfix": {"select": "HC", "ignore": ["HC005"], "unsafeFixes": True}}
    )
    assert settings == ClientSettings(("HC",), ("HC005",), True) and problems == []
    assert ClientSettings.from_json(None) == (ClientSettings(), [])
    settings, problems = ClientSettings.from_json({"select": 3, "unsafeFixes": "yes", "x": 1})
    assert settings == ClientSettings()
    assert len(problems) == 3


def test_bad_input_is_one_problem_never_an_exception() -> None:
    for text in ["Resources: [\n", '{"Resources": ', "\0Resources:", "Resources:\n  A: !Ref\n"]:
        analysis = analyze(text, "t.json" if text.startswith("{") else "t.yaml", ClientSettings())
        assert len(analysis.problems) <= 1 and not analysis.items
    deep = "Resources:\n  A: " + "[" * 5000 + "]" * 5000 + "\n"
    analysis = analyze(deep, "t.yaml", ClientSettings())
    assert len(analysis.problems) == 1 and not analysis.items
    assert analyze("name: app\n", "t.yaml", ClientSettings()).problems == []


def test_editors_doc_snippets_are_well_formed() -> None:
    import json
    import re
    import tomllib
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "editors.md").read_text()
    blocks = dict.fromkeys(("json", "toml", "lua", "elisp"), "")
    for language, body in re.findall(r"```(\w+)\n(.*?)```", doc, re.S):
        blocks[language] += body
    vscode = json.loads(blocks["json"])
    assert vscode["glspc.server.commandArguments"] == ["server"]
    assert "source.fixAll.cfnfix" in vscode["editor.codeActionsOnSave"]
    helix = tomllib.loads(blocks["toml"])
    assert helix["language-server"]["cfnfix"]["args"] == ["server"]
    assert ClientSettings.from_json(helix["language-server"]["cfnfix"]["config"])[1] == []
    assert '{ "cfnfix", "server" }' in blocks["lua"] and "vim.lsp.start" in blocks["lua"]
    assert blocks["elisp"].count("(") == blocks["elisp"].count(")")
    assert '"cfnfix" "server"' in blocks["elisp"]


def test_diagnostics_json_is_valid_lsp() -> None:
    from lsprotocol import types
    from pygls.protocol import default_converter

    from cfnfix.server.lsp import diagnostics_of
    from cfnfix.server.positions import LineIndex

    converter = default_converter()
    text = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n  Bad: [\n"
    for source in (text, text.replace("  Bad: [\n", "")):
        analysis = analyze(source, "t.yaml", ClientSettings())
        found = diagnostics_of(analysis, LineIndex(source))
        assert found
        for diagnostic in found:
            parsed = converter.structure(diagnostic, types.Diagnostic)
            assert converter.unstructure(parsed) == diagnostic


def test_the_configured_parsing_limits_apply(tmp_path: Path) -> None:
    """max-nesting-depth (like max-file-size) is the workspace's, as on the command line."""
    (tmp_path / ".cfnfix.toml").write_text("max-nesting-depth = 5\n")
    deep = "Resources:\n  A:\n    Type: X\n    Properties:\n      a:\n        b:\n          c: 1\n"
    analysis = analyze(deep, "t.yaml", ClientSettings(), tmp_path / "t.yaml", tmp_path)
    [problem] = analysis.problems
    assert "nesting deeper than 5" in problem.message
