"""The reference template: lint-clean, portable, tagged, retained, least-privilege, and
consistent with the handler and the build script. Plus the seed fixtures stay valid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfn_flip import load_yaml
from refstack_support import FIXTURES, STACK_DIR, TEMPLATE, load_build_module

REQUIRED_TAGS = {"iac-rlhf-amazon": "true", "Environment": {"Ref": "Environment"}}
STATEFUL_TYPES = {
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
}
PHYSICAL_NAME_PROPERTIES = {
    "BucketName",
    "TableName",
    "RoleName",
    "FunctionName",
    "QueueName",
    "LogGroupName",
    "TopicName",
    "AlarmName",
    "DashboardName",
    "BudgetName",
    "PolicyName",
}
UPLOAD_BUCKET_NAME = "${NamePrefix}-uploads-${AWS::AccountId}-${AWS::Region}"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(load_yaml(TEMPLATE.read_text()))


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


def of_type(resources: dict[str, Any], type_name: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == type_name}


def one(resources: dict[str, Any], type_name: str) -> dict[str, Any]:
    (resource,) = of_type(resources, type_name).values()
    return resource


def lint(path: Path) -> list[Any]:
    from cfnlint.api import ManualArgs, lint_file

    return lint_file(path, ManualArgs(include_checks=["I"]))


# --- linters --------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing_at_all() -> None:
    """Errors, warnings and informational findings (cfn-lint -c I)."""
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in lint(TEMPLATE)] == []


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("image-processing-broken.yaml", {"I3011", "I3042"}),
        ("image-processing-broken-sam.yaml", {"I3011"}),
    ],
)
def test_seed_fixtures_are_valid_but_flawed(fixture: str, expected: set[str]) -> None:
    """Deployable-looking (no cfn-lint errors); cfn-lint sees only a sliver of the flaws.

    (The JSON variant lints the same: it is checked below to hold the same document.)
    """
    matches = lint(FIXTURES / fixture)
    assert not [m for m in matches if m.rule.id.startswith("E")]
    assert {m.rule.id for m in matches} == expected


def test_json_fixture_has_the_same_content_as_yaml() -> None:
    yaml_doc = load_yaml((FIXTURES / "image-processing-broken.yaml").read_text())
    json_doc = json.loads((FIXTURES / "image-processing-broken.json").read_text())
    assert json.loads(json.dumps(yaml_doc)) == json_doc


def test_seed_fixtures_carry_the_seed_flaws() -> None:
    broken = load_yaml((FIXTURES / "image-processing-broken.yaml").read_text())
    layer = broken["Resources"]["PillowLayer"]["Properties"]["Content"]
    assert layer["S3Bucket"] == {"Fn::Sub": "${AWS::Region}-lambda-layers"}
    text = (FIXTURES / "image-processing-broken.yaml").read_text()
    assert "iac-rlhf-amazon" not in text and "DeletionPolicy" not in text
    assert "AWS::Logs::LogGroup" not in text and "DeadLetterConfig" not in text
    sam = load_yaml((FIXTURES / "image-processing-broken-sam.yaml").read_text())
    assert sam["Transform"] == "AWS::Serverless-2016-10-31"
    sam_layer = sam["Resources"]["PillowLayer"]
    assert sam_layer["Type"] == "AWS::Serverless::LayerVersion"
    assert sam_layer["Properties"]["ContentUri"]["Bucket"] == {
        "Fn::Sub": "${AWS::Region}-lambda-layers"
    }


# --- portability --------------------------------------------------------------------------


def test_no_hardcoded_partition_account_or_region() -> None:
    lines = TEMPLATE.read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "arn:aws:" not in text and "arn:aws-" not in text
    assert not re.search(r"(?<![\d{])\d{12}(?!\d)", text)
    region = r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)-[a-z]+-\d\b"
    # Region names appear only in the BudgetsInRegion allow-list conditions.
    conditions = text[text.index("\nConditions:") : text.index("\nResources:")]
    assert re.findall(region, text) == re.findall(region, conditions)
    assert len(re.findall(r"!Equals \[!Ref 'AWS::Region', " + region + r"\]", conditions)) == len(
        re.findall(region, conditions)
    )


def test_physical_names_only_where_needed(resources: dict[str, Any]) -> None:
    named = {
        (name, prop)
        for name, resource in resources.items()
        for prop in PHYSICAL_NAME_PROPERTIES & set(resource.get("Properties", {}))
        if not isinstance(resource["Properties"][prop], dict)
        or "Fn::Sub" in resource["Properties"][prop]
    }
    # The upload bucket (cycle breaker) and the inline policy's name (not a physical name).
    assert named == {("UploadBucket", "BucketName"), ("FunctionPolicy", "PolicyName")}
    assert resources["UploadBucket"]["Properties"]["BucketName"] == {"Fn::Sub": UPLOAD_BUCKET_NAME}


def test_parameters_are_constrained(template: dict[str, Any]) -> None:
    constraints = {"AllowedPattern", "AllowedValues", "MinValue", "MaxValue"}
    parameters = template["Parameters"]
    for name in (
        "NamePrefix",
        "Environment",
        "ArtifactBucket",
        "ArtifactKey",
        "LayerArn",
        "ThumbnailSize",
        "ReservedConcurrency",
        "LogRetentionDays",
        "AlarmEmail",
        "MonthlyBudget",
    ):
        assert constraints & set(parameters[name]), name
    assert parameters["LayerArn"]["Default"] == ""
    pattern = re.compile(parameters["LayerArn"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("arn:aws-cn:lambda:cn-north-1:123456789012:layer:pillow:3")
    assert re.fullmatch(parameters["NamePrefix"]["AllowedPattern"], "imgproc")
    assert re.fullmatch(parameters["AlarmEmail"]["AllowedPattern"], "ops@example.com")


def test_log_retention_values_are_the_cloudwatch_ones(template: dict[str, Any]) -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::Logs::LogGroup")
    allowed = schema.schema["properties"]["RetentionInDays"]["enum"]
    assert template["Parameters"]["LogRetentionDays"]["AllowedValues"] == allowed


# --- tags and retention --------------------------------------------------------------------


def tag_property(type_name: str) -> tuple[str, bool] | None:
    """(property name, takes a list of {Key, Value}) for taggable types, per cfn-lint's schemas."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", type_name).schema
    tagging = schema.get("tagging", {})
    properties = schema["properties"]
    name = tagging.get("tagProperty", "/properties/Tags").rsplit("/", 1)[-1]
    if not tagging.get("taggable") and "Tags" not in properties:
        name = "ResourceTags" if "ResourceTags" in properties else ""
    if not name or name not in properties:
        return None
    return name, properties[name].get("type") == "array"


def test_every_taggable_resource_has_the_three_tags(resources: dict[str, Any]) -> None:
    checked = set()
    for name, resource in resources.items():
        found = tag_property(resource["Type"])
        if found is None:
            continue
        prop, is_list = found
        tags = resource["Properties"].get(prop)
        assert tags is not None, f"{name} has no {prop}"
        as_map = {t["Key"]: t["Value"] for t in tags} if is_list else dict(tags)
        for key, value in REQUIRED_TAGS.items():
            assert as_map.get(key) == value, f"{name}: {key}"
        assert as_map.get("Purpose"), f"{name}: Purpose"
        checked.add(resource["Type"])
    assert {
        "AWS::S3::Bucket",
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::CloudWatch::Alarm",
        "AWS::Budgets::Budget",
        "AWS::KMS::Key",
        "AWS::SNS::Topic",
    } <= checked


def test_stateful_resources_are_retained(resources: dict[str, Any]) -> None:
    stateful = {n: r for n, r in resources.items() if r["Type"] in STATEFUL_TYPES}
    assert len(stateful) == 7
    for name, resource in stateful.items():
        assert resource.get("DeletionPolicy") == "Retain", name
        assert resource.get("UpdateReplacePolicy") == "Retain", name


# --- storage --------------------------------------------------------------------------------


def test_buckets_are_locked_down(resources: dict[str, Any]) -> None:
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert set(buckets) == {"UploadBucket", "ThumbnailBucket"}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values()), name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": ["EncryptionKey", "Arn"]},
        }
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in r for r in rules)
        assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    policies = of_type(resources, "AWS::S3::BucketPolicy").values()
    assert {p["Properties"]["Bucket"]["Ref"] for p in policies} == set(buckets)
    for policy in policies:
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_notification_cycle_is_broken_by_name(resources: dict[str, Any]) -> None:
    permission = one(resources, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{UPLOAD_BUCKET_NAME}"
    }
    assert resources["UploadBucket"]["DependsOn"] == "ProcessorInvokePermission"


def test_only_image_uploads_trigger_and_output_goes_elsewhere(resources: dict[str, Any]) -> None:
    configs = resources["UploadBucket"]["Properties"]["NotificationConfiguration"][
        "LambdaConfigurations"
    ]
    suffixes = set()
    for config in configs:
        rules = {r["Name"]: r["Value"] for r in config["Filter"]["S3Key"]["Rules"]}
        assert rules["prefix"] == "uploads/"
        suffixes.add(rules["suffix"])
        assert config["Function"] == {"Fn::GetAtt": ["ProcessorFunction", "Arn"]}
    assert {".jpg", ".jpeg", ".png", ".webp", ".gif"} <= suffixes
    variables = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["THUMBNAIL_BUCKET"] == {"Ref": "ThumbnailBucket"}
    assert variables["SOURCE_PREFIX"] == "uploads/"


def test_table_queue_and_topic(resources: dict[str, Any]) -> None:
    table = one(resources, "AWS::DynamoDB::Table")["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEType"] == "KMS"
    assert table["DeletionProtectionEnabled"] is True
    assert table["KeySchema"] == [{"AttributeName": "objectKey", "KeyType": "HASH"}]
    assert set(of_type(resources, "AWS::SQS::Queue")) == {"FailureQueue", "RejectionQueue"}
    for name in ("FailureQueue", "RejectionQueue"):
        queue = resources[name]["Properties"]
        assert queue["MessageRetentionPeriod"] == 1209600
        assert queue["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}
    topic = one(resources, "AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}
    subscription = one(resources, "AWS::SNS::Subscription")["Properties"]
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == {"Ref": "AlarmEmail"}


def test_key_policy_grants_the_services_that_use_the_key(resources: dict[str, Any]) -> None:
    key = one(resources, "AWS::KMS::Key")["Properties"]
    assert key["EnableKeyRotation"] is True
    principals = [s["Principal"] for s in key["KeyPolicy"]["Statement"]]
    assert {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}} in principals
    assert {"AWS": {"Fn::GetAtt": ["FunctionRole", "Arn"]}} in principals
    assert {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}} in principals
    assert {"Service": "cloudwatch.amazonaws.com"} in principals
    # S3 uses the key with the caller's permissions (function role, uploaders): the S3
    # service principal needs no grant (issue 13, item 7).
    assert {"Service": "s3.amazonaws.com"} not in principals


# --- function -------------------------------------------------------------------------------


def test_function_matches_handler_and_build(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    from thumbnailer import app

    props = resources["ProcessorFunction"]["Properties"]
    module_name, function_name = props["Handler"].rsplit(".", 1)
    assert module_name == app.__name__ and getattr(app, function_name) is app.handler
    build = load_build_module()
    assert props["Runtime"] == f"python{build.DEFAULT_PYTHON}"
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    architecture = template["Parameters"]["Architecture"]
    assert architecture["Default"] == "arm64"  # build.py's default --arch
    assert set(architecture["AllowedValues"]) == set(build.PLATFORMS)
    assert props["Code"] == {
        "S3Bucket": {"Ref": "ArtifactBucket"},
        "S3Key": {"Ref": "ArtifactKey"},
    }
    assert props["Layers"] == {
        "Fn::If": ["HasLayer", [{"Ref": "LayerArn"}], {"Ref": "AWS::NoValue"}]
    }
    assert props["RecursiveLoop"] == "Terminate"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}, "LogFormat": "JSON"}
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasReservedConcurrency",
            {"Ref": "ReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    log_group = resources["FunctionLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "KmsKeyId" in log_group


def test_environment_is_what_the_handler_reads(resources: dict[str, Any]) -> None:
    from thumbnailer.config import Settings

    variables = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    env = {name: value if isinstance(value, str) else "123" for name, value in variables.items()}
    settings = Settings.from_env(env)
    assert settings.source_prefix == "uploads/"
    read_by_handler = re.findall(r'env(?:\.get\(|, )"([A-Z_]+)"', _config_source())
    assert set(variables) == set(read_by_handler) - {
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",  # set by Lambda itself
    }


def _config_source() -> str:
    return (STACK_DIR / "handler" / "thumbnailer" / "config.py").read_text()


def test_failures_go_to_the_queue(resources: dict[str, Any]) -> None:
    config = one(resources, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert 0 <= config["MaximumRetryAttempts"] <= 2
    assert 60 <= config["MaximumEventAgeInSeconds"] <= 21600
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailureQueue", "Arn"]
    }


def test_role_is_least_privilege(resources: dict[str, Any]) -> None:
    role = resources["FunctionRole"]["Properties"]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    grants = policy_grants(resources["FunctionPolicy"])
    upload_arn = f"arn:${{AWS::Partition}}:s3:::{UPLOAD_BUCKET_NAME}"
    assert grants == {
        ("s3:GetObject", json.dumps({"Fn::Sub": f"{upload_arn}/uploads/*"})),
        ("s3:ListBucket", json.dumps({"Fn::Sub": upload_arn})),  # 404, not 403 (item 6)
        ("s3:PutObject", json.dumps({"Fn::Sub": "${ThumbnailBucket.Arn}/thumbnails/*"})),
        ("dynamodb:UpdateItem", json.dumps({"Fn::GetAtt": ["MetadataTable", "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["RejectionQueue", "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["FailureQueue", "Arn"]})),  # OnFailure
        ("kms:Decrypt", json.dumps({"Fn::GetAtt": ["EncryptionKey", "Arn"]})),
        ("kms:GenerateDataKey", json.dumps({"Fn::GetAtt": ["EncryptionKey", "Arn"]})),
        ("logs:CreateLogStream", json.dumps({"Fn::GetAtt": ["FunctionLogGroup", "Arn"]})),
        ("logs:PutLogEvents", json.dumps({"Fn::GetAtt": ["FunctionLogGroup", "Arn"]})),
        ("xray:PutTraceSegments", json.dumps("*")),
        ("xray:PutTelemetryRecords", json.dumps("*")),
    }


def policy_grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource as JSON) for every Allow statement of an IAM policy resource."""
    grants = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            assert "*" not in action
            grants.add((action, json.dumps(statement["Resource"])))
    return grants


def test_handler_calls_are_exactly_what_the_role_grants(resources: dict[str, Any]) -> None:
    """Every boto3 call in the handler has its grant, and no grant is unused (item 7)."""
    source = "\n".join(
        path.read_text() for path in (STACK_DIR / "handler" / "thumbnailer").glob("*.py")
    )
    calls = set(re.findall(r'client\("(\w+)"\)\.(\w+)\(', source))
    calls |= {("s3", m) for m in re.findall(r"\bs3\.(\w+)\(", source)}
    actions = {
        ("s3", "get_object"): "s3:GetObject",
        ("s3", "head_object"): "s3:GetObject",
        ("s3", "put_object"): "s3:PutObject",
        ("dynamodb", "update_item"): "dynamodb:UpdateItem",
        ("sqs", "send_message"): "sqs:SendMessage",
    }
    assert calls == set(actions), calls
    granted = {action for action, _ in policy_grants(resources["FunctionPolicy"])}
    implicit = {
        "s3:ListBucket",  # makes S3 answer 404 for a deleted key
        "kms:Decrypt",  # SSE-KMS reads, encrypted queues, environment variables
        "kms:GenerateDataKey",  # SSE-KMS writes, encrypted queues
        "logs:CreateLogStream",  # the Lambda runtime's logging
        "logs:PutLogEvents",
        "xray:PutTraceSegments",  # Active tracing
        "xray:PutTelemetryRecords",
    }
    assert granted == set(actions.values()) | implicit


def test_uploader_policy_can_upload_to_the_encrypted_bucket(resources: dict[str, Any]) -> None:
    policy = resources["UploaderPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    upload_arn = f"arn:${{AWS::Partition}}:s3:::{UPLOAD_BUCKET_NAME}"
    key = json.dumps({"Fn::GetAtt": ["EncryptionKey", "Arn"]})
    assert policy_grants(policy) == {
        ("s3:PutObject", json.dumps({"Fn::Sub": f"{upload_arn}/uploads/*"})),
        ("s3:AbortMultipartUpload", json.dumps({"Fn::Sub": f"{upload_arn}/uploads/*"})),
        ("kms:GenerateDataKey", key),
        ("kms:Decrypt", key),  # multipart uploads
    }
    (kms_statement,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "EncryptUploads"
    ]
    assert kms_statement["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}
    }
    # The key policy delegates to IAM, so an IAM policy can grant the key at all.
    key_policy = resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert key_policy[0]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }


# --- monitoring and cost -------------------------------------------------------------------


def test_alarms(resources: dict[str, Any]) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    metrics = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()
    }
    assert metrics == {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "AsyncEventsDropped"),
        ("AWS/Lambda", "DestinationDeliveryFailures"),
        ("AWS/Lambda", "Duration"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("ImageProcessing", "ImagesRejected"),
    }
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    duration = resources["DurationP95Alarm"]["Properties"]
    timeout_ms = resources["ProcessorFunction"]["Properties"]["Timeout"] * 1000
    assert duration["ExtendedStatistic"] == "p95"
    assert duration["Threshold"] == 0.8 * timeout_ms
    variables = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    assert (
        resources["RejectedImagesAlarm"]["Properties"]["Namespace"]
        == (variables["METRICS_NAMESPACE"])
    )
    # The account-wide billing metric cannot be filtered by tag: no billing alarm (item 7).
    assert "BillingAlarm" not in resources


def test_dashboard_body_is_valid_json_without_region_literals(resources: dict[str, Any]) -> None:
    body, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert "AlarmArnPrefix" in variables
    assert not re.search(r"\b(?:us|eu|ap)-[a-z]+-\d\b", body)
    rendered = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    metrics = {
        m[1]
        for widget in rendered["widgets"]
        if widget["type"] == "metric"
        for m in widget["properties"]["metrics"]
        if m[0] not in (".", "...")
    }
    assert {"Invocations", "Duration", "ThumbnailsCreated", "ProcessingTime"} <= metrics
    (alarm_widget,) = [w for w in rendered["widgets"] if w["type"] == "alarm"]
    alarm_arns = alarm_widget["properties"]["alarms"]
    alarms = [n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarm_arns) == len(alarms)


def test_budget(resources: dict[str, Any]) -> None:
    budget = one(resources, "AWS::Budgets::Budget")
    props = budget["Properties"]
    assert budget["Condition"] == "HasBudget"
    assert props["Budget"]["BudgetType"] == "COST"
    assert props["Budget"]["TimeUnit"] == "MONTHLY"
    assert props["Budget"]["BudgetLimit"]["Amount"] == {"Ref": "MonthlyBudget"}
    subscribers = [s for n in props["NotificationsWithSubscribers"] for s in n["Subscribers"]]
    assert subscribers and all(s["Address"] == {"Ref": "AlarmEmail"} for s in subscribers)


def test_outputs(template: dict[str, Any]) -> None:
    assert {
        "UploadBucketName",
        "ThumbnailBucketName",
        "MetadataTableName",
        "FunctionArn",
        "FailureQueueUrl",
        "AlarmTopicArn",
        "DashboardName",
    } <= set(template["Outputs"])
