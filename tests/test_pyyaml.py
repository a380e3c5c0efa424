"""cfnfix.pyyaml: PyYAML imported with its patterns compiled on first use, and otherwise
the same PyYAML (its pure-Python loader included, for whoever else uses it)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from cfnfix.pyyaml import DeferredPattern, compiled


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter (this one imported yaml long ago)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_yaml_patterns_are_deferred_and_re_compile_is_restored() -> None:
    out = run_fresh(
        """
        import re
        original = re.compile
        import cfnfix.pyyaml, yaml
        from cfnfix.pyyaml import DeferredPattern
        print(re.compile is original)
        print(type(yaml.reader.Reader.NON_PRINTABLE).__name__)
        print(type(yaml.constructor.SafeConstructor.timestamp_regexp).__name__)
        print(type(re.compile("x")).__name__)
        """
    )
    assert out.splitlines() == ["True", "DeferredPattern", "DeferredPattern", "Pattern"]


def test_pure_python_yaml_still_works_after_the_deferred_import() -> None:
    out = run_fresh(
        """
        import cfnfix.pyyaml, yaml
        print(yaml.load("a: 2001-12-14\\nb: yes\\nc: 0x1F\\nd: ~", Loader=yaml.SafeLoader))
        try:
            yaml.load("a: \\x07", Loader=yaml.SafeLoader)
        except yaml.reader.ReaderError as exc:
            print("ReaderError", "special characters are not allowed" in str(exc))
        print(yaml.dump({"k": "yes"}, Dumper=yaml.SafeDumper).strip())
        """
    )
    assert out.splitlines() == [
        "{'a': datetime.date(2001, 12, 14), 'b': True, 'c': 31, 'd': None}",
        "ReaderError True",
        "k: 'yes'",
    ]


def test_an_earlier_import_of_yaml_is_left_as_it_is() -> None:
    out = run_fresh(
        """
        import yaml
        import cfnfix.pyyaml
        print(type(yaml.reader.Reader.NON_PRINTABLE).__name__)
        """
    )
    assert out == "Pattern"


def test_a_deferred_pattern_behaves_like_the_compiled_one() -> None:
    deferred = DeferredPattern(r"(a+)(b)?", re.I)
    real = re.compile(r"(a+)(b)?", re.I)
    assert deferred.match("AAb") is not None
    assert deferred.match("AAb").groups() == real.match("AAb").groups()  # type: ignore[union-attr]
    assert deferred.sub("x", "caab") == real.sub("x", "caab")
    assert deferred.groups == real.groups
    assert compiled(deferred) is compiled(deferred)
    assert compiled(real) is real
    assert compiled(deferred).pattern == real.pattern
