"""Reading template files: bytes to text, and the facts a writer must preserve."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

from cfnfix.errors import LoadError
from cfnfix.records import FrozenRecord

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # CloudFormation itself accepts at most 1 MB
BOM = "\ufeff"
JSON_SUFFIXES = (".json",)
# Characters encoded at a time when a text is written or compared with a file: a whole
# large template's bytes would be one more copy of it at the peak of a fix's memory.
_PIECE = 1 << 16


class Source(FrozenRecord):
    """The decoded text of a file plus what is needed to write it back byte for byte."""

    __match_args__ = (
        "path",
        "text",
        "bom",
        "newline",
        "mtime_ns",
        "size",
        "is_json",
        "max_depth",
        "max_alias_nodes",
    )
    __slots__ = __match_args__

    def __init__(
        self,
        path: Path,
        text: str,  # without BOM; line endings as in the file
        bom: bool,
        newline: str,  # the file's dominant line ending, used for inserted lines
        mtime_ns: int,
        size: int,
        is_json: bool,
        # Parsing limits (configurable: max-nesting-depth, max-alias-nodes).
        max_depth: int = 400,
        max_alias_nodes: int = 2_000_000,
    ) -> None:
        self.path: Final = path
        self.text: Final = text
        self.bom: Final = bom
        self.newline: Final = newline
        self.mtime_ns: Final = mtime_ns
        self.size: Final = size
        self.is_json: Final = is_json
        self.max_depth: Final = max_depth
        self.max_alias_nodes: Final = max_alias_nodes

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")

    def pieces(self, text: str) -> Iterator[bytes]:
        """``encode(text)``, a piece at a time."""
        if self.bom:
            yield BOM.encode("utf-8")
        for at in range(0, len(text), _PIECE):
            yield text[at : at + _PIECE].encode("utf-8")

    @classmethod
    def from_text(cls, text: str, name: str = "template.yaml") -> Source:
        """An in-memory source (for tests, editors and stdin)."""
        bom = text.startswith(BOM)
        body = text[1:] if bom else text
        crlf = body.count("\r\n")
        newline = "\r\n" if crlf and crlf * 2 >= body.count("\n") else "\n"
        path = Path(name)
        return cls(path, body, bom, newline, 0, len(text), looks_like_json(path, body))


def looks_like_json(path: Path, text: str) -> bool:
    if path.suffix.lower() in JSON_SUFFIXES:
        return True
    if path.suffix.lower() in (".yaml", ".yml"):
        return False
    return text.lstrip()[:1] == "{"


def read_source(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Read ``path`` as UTF-8 text. Raises :class:`LoadError` with a one-line reason."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise LoadError("no such file") from None
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
    if not path.is_file():
        raise LoadError("not a regular file")
    if stat.st_size > max_bytes:
        raise LoadError(
            f"file too large ({stat.st_size:,} bytes; the limit is {max_bytes:,}, "
            "set max-file-size to raise it)"
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise LoadError(f"file too large (more than {max_bytes:,} bytes)")
    if b"\0" in data:
        if _utf16_or_32(data):
            raise LoadError("UTF-16 or UTF-32 text (templates are read as UTF-8)")
        raise LoadError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    source = Source.from_text(text, str(path))
    return source.replace(path=path, mtime_ns=stat.st_mtime_ns, size=stat.st_size)


def _utf16_or_32(data: bytes) -> bool:
    """A byte-order mark, or ASCII text with a NUL beside every character."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return True
    head = data[:200]
    return len(head) >= 4 and (
        head[1::2].count(0) == len(head[1::2]) or head[0::2].count(0) == len(head[0::2])
    )


def write_atomic(path: Path, text: str, expected: Source) -> None:
    """Replace ``path``'s content with ``text``, encoded as ``expected`` was, atomically,
    through symlinks, keeping its mode.

    Refuses (``LoadError``) when the file changed since ``expected`` was read.
    """
    target = Path(os.path.realpath(path))
    try:
        stat = target.stat()
        with open(target, "rb") as handle:
            unchanged = _holds(handle, expected)
    except OSError as exc:
        raise LoadError(f"cannot re-read before writing: {exc.strerror or exc}") from None
    if not unchanged or stat.st_mtime_ns != expected.mtime_ns:
        raise LoadError("file changed since it was read; not written")
    try:
        write_file(target, expected.pieces(text))
    except OSError as exc:
        raise LoadError(f"cannot write: {exc.strerror or exc}") from None


def _holds(handle: BinaryIO, source: Source) -> bool:
    """Whether the file read from ``handle`` is exactly the bytes ``source`` was read from
    (compared a piece at a time)."""
    for piece in source.pieces(source.text):
        if handle.read(len(piece)) != piece:
            return False
    return handle.read(1) == b""


def write_file(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (or its pieces, in order) atomically (a temporary file beside it,
    then a rename).

    An existing file keeps its mode; ``OSError`` propagates.
    """
    import signal  # writing only: a check starts without them
    import tempfile

    target = Path(os.path.realpath(path))
    try:
        mode: int | None = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    # SIGINT and SIGTERM wait until the file is whole and the temporary file gone.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, bytes):
                    handle.write(data)
                else:
                    handle.writelines(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(name, mode)
            os.replace(name, target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
