"""The IAM table against what the stacks register, and the roles' policies against the calls.

The stacks are run under the mocks (dev, uat, prod) recording every resource type and every
data source they invoke; every one must have a row. The deploy and preview policies are then
judged with a small IAM evaluator (tests/iam_eval.py, tested first against IAM's documented
semantics) on real actions: one create call per type (from the Service Authorization
Reference), the reads a refresh makes, and the data reads a preview must never make.
"""

from __future__ import annotations

import pytest

from tests.iam_eval import evaluate

ALLOW, DENY, IMPLICIT = "Allow", "Deny", "ImplicitDeny"


# --- the evaluator itself, against IAM's documented semantics ---------------------------------
def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


BUCKET_OBJECT = "arn:aws:s3:::state/stacks/dev.json"
OTHER_OBJECT = "arn:aws:s3:::data/customers.csv"
REGION = "aws:RequestedRegion"

EVALUATOR_CASES = [
    # (why, policy, action, resource, context, expected)
    ("nothing allows: implicit deny", _doc(), "s3:GetObject", None, {}, IMPLICIT),
    ("exact action", _doc(_allow("s3:GetObject")), "s3:GetObject", None, {}, ALLOW),
    ("actions are case-insensitive", _doc(_allow("S3:getobject")), "s3:GetObject", None, {},
     ALLOW),
    ("another action: implicit deny", _doc(_allow("s3:GetObject")), "s3:PutObject", None, {},
     IMPLICIT),
    ("* matches any run", _doc(_allow("s3:Get*")), "s3:GetObjectVersion", None, {}, ALLOW),
    ("* matches the empty run", _doc(_allow("s3:GetObject*")), "s3:GetObject", None, {},
     ALLOW),
    ("a prefix wildcard is not a verb wildcard", _doc(_allow("s3:Get*")), "s3:ListBucket", None,
     {}, IMPLICIT),
    ("? matches exactly one character", _doc(_allow("ec2:Describe?pcs")), "ec2:DescribeVpcs",
     None, {}, ALLOW),
    ("? does not match two", _doc(_allow("ec2:Describe?cs")), "ec2:DescribeVpcs", None, {},
     IMPLICIT),
    ("service:* stays in its service", _doc(_allow("iam:*")), "iamx:CreateRole", None, {},
     IMPLICIT),
    ("the action * matches everything", _doc(_allow("*")), "kafka-cluster:ReadData", None, {},
     ALLOW),
    ("a list is an OR", _doc(_allow(["logs:Describe*", "s3:ListBucket"])), "s3:ListBucket", None,
     {}, ALLOW),
    ("explicit deny beats allow", _doc(_allow("s3:*"), _deny("s3:GetObject")), "s3:GetObject",
     None, {}, DENY),
    ("explicit deny beats allow, in any order", _doc(_deny("s3:GetObject"), _allow("s3:*")),
     "s3:GetObject", None, {}, DENY),
    ("deny alone is still a deny", _doc(_deny("s3:GetObject")), "s3:GetObject", None, {}, DENY),
    ("a deny of another action changes nothing", _doc(_allow("s3:*"), _deny("s3:PutObject")),
     "s3:GetObject", None, {}, ALLOW),
    ("NotAction allows all but its actions",
     _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "ec2:RunInstances", None,
     {}, ALLOW),
    ("NotAction does not allow its own actions",
     _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "iam:CreateUser", None,
     {}, IMPLICIT),
    ("a NotAction deny spares its actions",
     _doc(_allow("*"), {"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}),
     "iam:GetRole", None, {}, ALLOW),
    ("resource * matches every ARN", _doc(_allow("s3:GetObject")), "s3:GetObject", OTHER_OBJECT,
     {}, ALLOW),
    ("a resource wildcard spans / and :", _doc(_allow("s3:GetObject", "arn:aws:s3:::state/*")),
     "s3:GetObject", BUCKET_OBJECT, {}, ALLOW),
    ("resources are case-sensitive", _doc(_allow("s3:GetObject", "arn:aws:s3:::STATE/*")),
     "s3:GetObject", BUCKET_OBJECT, {}, IMPLICIT),
    ("NotResource deny carves one resource out",
     _doc(_allow("s3:GetObject"),
          {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::state/*"}),
     "s3:GetObject", BUCKET_OBJECT, {}, ALLOW),
    ("… and denies everywhere else",
     _doc(_allow("s3:GetObject"),
          {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::state/*"}),
     "s3:GetObject", OTHER_OBJECT, {}, DENY),
    ("a statement that is a dict, not a list",
     {"Version": "2012-10-17", "Statement": _allow("sqs:GetQueueUrl")}, "sqs:GetQueueUrl", None,
     {}, ALLOW),
    ("StringNotEquals with another value: the deny applies",
     _doc(_allow("*"), _deny("*", Condition={"StringNotEquals": {REGION: ["eu-west-1"]}})),
     "ec2:RunInstances", None, {REGION: "us-east-1"}, DENY),
    ("StringNotEquals with the value: the deny does not apply",
     _doc(_allow("*"), _deny("*", Condition={"StringNotEquals": {REGION: ["eu-west-1"]}})),
     "ec2:RunInstances", None, {REGION: "eu-west-1"}, ALLOW),
    ("a negated operator on a missing key is true",
     _doc(_allow("*"), _deny("*", Condition={"StringNotEquals": {REGION: "eu-west-1"}})),
     "ec2:RunInstances", None, {}, DENY),
    ("a positive operator on a missing key is false",
     _doc(_allow("*", Condition={"StringEquals": {REGION: "eu-west-1"}})), "ec2:RunInstances",
     None, {}, IMPLICIT),
    ("IfExists holds on a missing key",
     _doc(_allow("*", Condition={"StringEqualsIfExists": {REGION: "eu-west-1"}})),
     "ec2:RunInstances", None, {}, ALLOW),
    ("condition key names are case-insensitive",
     _doc(_allow("*", Condition={"StringEquals": {"AWS:requestedregion": "eu-west-1"}})),
     "ec2:RunInstances", None, {REGION: "eu-west-1"}, ALLOW),
    ("StringLike takes wildcards",
     _doc(_allow("*", Condition={"StringLike": {REGION: "eu-*"}})), "ec2:RunInstances", None,
     {REGION: "eu-central-1"}, ALLOW),
    ("keys are ANDed",
     _doc(_allow("*", Condition={"StringEquals": {REGION: "eu-west-1", "aws:x": "1"}})),
     "ec2:RunInstances", None, {REGION: "eu-west-1"}, IMPLICIT),
    ("several policies: a deny in one beats an allow in another",
     [_doc(_allow("kms:*")), _doc(_deny("kms:Decrypt"))], "kms:Decrypt", None, {}, DENY),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "action", "resource", "context", "expected"),
    [case[1:] for case in EVALUATOR_CASES],
    ids=[case[0] for case in EVALUATOR_CASES],
)
def test_the_evaluator_follows_iams_rules(policy, action, resource, context, expected):
    assert evaluate(policy, action, resource, context) == expected


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Resource": "*"},  # no Action
        {"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*"},  # no Resource
        {"Effect": "Permit", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"},
        _allow("*", Condition={"NumericLessThan": {"aws:x": "1"}}),
        _allow("*", "arn:aws:s3:::${aws:username}/*"),
    ],
)
def test_the_evaluator_refuses_what_it_cannot_judge(statement):
    with pytest.raises(ValueError):
        evaluate(_doc(statement), "s3:GetObject", "arn:aws:s3:::b/k", {"aws:x": "0"})
