"""Writing a fixed file: encoded as it was read, and only if it is still what was read
(both a piece at a time: a large template's bytes are not copied whole)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cfnfix import source as sources
from cfnfix.errors import LoadError
from cfnfix.source import BOM, read_source, write_atomic

# More than one piece, with characters of one to four bytes on both sides of a boundary.
TEXT = "Resources: {}\n" + "# é ü 中 😀\n" * 12_000


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "_PIECE", 1000)


@pytest.mark.parametrize("bom", [False, True], ids=["plain", "BOM"])
def test_the_text_is_written_encoded_as_it_was_read(tmp_path: Path, bom: bool) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(((BOM if bom else "") + TEXT).encode("utf-8"))
    source = read_source(path)
    fixed = source.text.replace("{}", "{A: 1}")
    write_atomic(path, fixed, source)
    assert path.read_bytes() == ((BOM if bom else "") + fixed).encode("utf-8")


@pytest.mark.parametrize("edit", ["a changed character", "an added line", "a removed line"])
def test_a_file_changed_anywhere_since_it_was_read_is_not_written(
    tmp_path: Path, edit: str
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TEXT, encoding="utf-8")
    source = read_source(path)
    changed = {
        "a changed character": TEXT[:-3] + "ö\n",
        "an added line": TEXT + "# more\n",
        "a removed line": TEXT[: -len("# é ü 中 😀\n")],
    }[edit]
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(source.mtime_ns, source.mtime_ns))  # only the content tells
    with pytest.raises(LoadError, match="file changed since it was read"):
        write_atomic(path, source.text, source)
    assert path.read_text(encoding="utf-8") == changed
