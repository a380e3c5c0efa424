"""Deterministic synthetic templates of N resources, for benchmarks.

Each "unit" is a small serverless slice (queue, log group, role, function, alarm) wired
with Ref, GetAtt and Sub, so that references grow with the template as in real stacks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

UNIT = """\
  Queue{i}:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 345600
      Tags:
        - Key: Environment
          Value: !Ref Environment
  Logs{i}:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/aws/lambda/${{AWS::StackName}}-fn-{i}'
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: queue
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [sqs:SendMessage]
                Resource: !GetAtt Queue{i}.Arn
  Function{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: !GetAtt Role{i}.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return {i}
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue{i}
          LOG_GROUP: !Ref Logs{i}
  Alarm{i}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref Function{i}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
"""
PER_UNIT = 5
HEADER = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: Synthetic benchmark template ({n} resources)
Parameters:
  Environment:
    Type: String
    Default: dev
Resources:
"""


def template(resources: int) -> str:
    units = max(1, resources // PER_UNIT)
    return HEADER.format(n=units * PER_UNIT) + "".join(UNIT.format(i=i) for i in range(units))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("sizes", type=int, nargs="+")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        (args.out / f"synthetic-{size}.yaml").write_text(template(size))


if __name__ == "__main__":
    main()
