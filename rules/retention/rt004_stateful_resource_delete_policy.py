"""RT004: a stateful resource whose policy is Delete loses its data on purpose."""

from __future__ import annotations

from collections.abc import Iterator

from cfnfix.rule import Example, Finding, Rule, Severity
from cfnfix.template import Template

from ._policies import is_cluster_member, is_stateful


class StatefulResourceDeletePolicy(Rule):
    id = "RT004"
    name = "stateful-resource-delete-policy"
    family = "retention"
    severity = Severity.INFO
    summary = "Stateful resource whose DeletionPolicy or UpdateReplacePolicy is Delete"
    what = """
Reports `DeletionPolicy: Delete` and `UpdateReplacePolicy: Delete` on resources of a type
that holds data (the stateful types of cfnfix's resource data). Instances that belong to
a database cluster (Aurora, DocumentDB, Neptune) are not reported: their data lives in
the cluster.
"""
    why = """
`Delete` is a legitimate choice for scratch and test stacks, but on a production stack it
means that a stack deletion, a removed resource or a replacing update destroys the data
with no copy left. The finding is informational: it makes the choice visible in review.
"""
    fix_safety = """
There is no fix: `Delete` is an explicit decision, and changing it to `Retain` would leave
resources (and their bills) behind after every stack deletion. Use `Retain` or `Snapshot`
where the data matters, or ignore the rule for stacks that are meant to be thrown away.
"""
    fix_availability = "none"
    default_enabled = False  # restates an explicit choice or a default: opt-in
    examples = (
        Example(
            bad="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Delete
    UpdateReplacePolicy: Retain
""",
            good="""
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
""",
        ),
    )

    def check(self, template: Template) -> Iterator[Finding]:
        for resource in template.resources.values():
            if not is_stateful(resource) or is_cluster_member(resource):
                continue
            for key, value, what in (
                ("DeletionPolicy", resource.deletion_policy, "deleting the stack or the resource"),
                (
                    "UpdateReplacePolicy",
                    resource.update_replace_policy,
                    "an update that replaces the resource",
                ),
            ):
                if value == "Delete":
                    yield self.finding(
                        (*resource.path, key),
                        f"{key} is Delete: {what} destroys this {resource.type}'s data",
                    )
