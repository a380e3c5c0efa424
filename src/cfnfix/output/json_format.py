"""``--format json``: one object with findings, errors and a summary."""

from __future__ import annotations

import json

from cfnfix.output.summary import RunSummary


def render_json(run: RunSummary, color: bool = False) -> str:
    counts = run.severity_counts()
    safe, unsafe = run.fixable()
    document = {
        "findings": [d.to_json() for d in run.diagnostics],
        "errors": [e.to_json() for e in run.errors],
        "fixed": [
            {
                "file": r.file,
                "rule": f.rule,
                "line": f.line,
                "resource": f.resource,
                "description": f.description,
            }
            for r in run.results
            for f in r.fixed
        ],
        "summary": {
            "files": run.files_checked,
            "files_with_findings": run.files_with_findings,
            "files_skipped": run.files_skipped,
            "files_failed": run.files_failed,
            "files_changed": run.changed_files,
            "findings": len(run.diagnostics),
            "errors": counts.get("error", 0),
            "warnings": counts.get("warning", 0),
            "info": counts.get("info", 0),
            "fixable_safe": safe,
            "fixable_unsafe": unsafe,
            "fixed": run.fixed_count,
            "file_errors": len(run.errors),
            "rule_errors": run.error_counts()["rule"],
            "write_errors": run.error_counts()["write"],
            "exit_code": run.exit_code,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
