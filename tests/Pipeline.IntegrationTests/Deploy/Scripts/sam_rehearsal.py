#!/usr/bin/env python3
"""SAM transform and moto CloudFormation deploy rehearsal for template.yaml.

Used by the xunit tests in tests/Pipeline.IntegrationTests/Deploy: this script does the
mechanics (transform, create the stack, read back what was created) and prints JSON; the
tests make the assertions.

  sam_rehearsal.py decode --template T
      prints any CloudFormation template (YAML short tags included) as JSON
  sam_rehearsal.py samconfig --config samconfig.toml
      prints each environment's settings, parameter_overrides split into a map
  sam_rehearsal.py transform --template T [--param K=V ...]
      prints the transformed CloudFormation template (JSON)
  sam_rehearsal.py rehearse --template T --endpoint URL --stack NAME [--param K=V ...]
      creates the stack in moto and prints what exists: stack status and resources, functions,
      event source mappings, schedule rules and targets, roles (with their policy documents as
      IAM stores them, intrinsics resolved, and sts:AssumeRole credentials of a session of each,
      which is what Lambda hands a function), managed policies

No network: the SAM transform runs client-side (samtranslator) with a managed-policy loader
that knows no names (the template uses none), and every AWS call goes to the given endpoint.
"""

import argparse
import io
import json
import os
import re
import sys
import time
import zipfile

# Where `sam package` would have uploaded the code; the rehearsal creates this bucket in moto.
CODE_BUCKET = "sam-rehearsal-code"
CODE_KEY = "functions/bootstrap.zip"
# Bounded wait for the stack (moto creates synchronously; this only guards a hang).
STACK_WAIT_SECONDS = 60
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_APPLICATION = "AWS::Serverless::Application"
NESTED_OUTPUT_MARKER = "rehearsal-nested-output-"


class NoManagedPolicies:
    """samtranslator asks this for AWS managed policy ARNs by name; the template names none."""

    def load(self):
        return {}


def parse_params(pairs):
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param expects KEY=VALUE, got {pair!r}")
        params[key] = value
    return params


def load_template(path):
    from cfnlint.decode import decode

    template, matches = decode(path)
    if matches or template is None:
        raise SystemExit("cannot parse %s: %s" % (path, "; ".join(str(m) for m in matches)))
    # Plain dicts and strs (cfn-lint's nodes carry line marks we do not need).
    return json.loads(json.dumps(template))


def package(template, template_dir, region):
    """What `sam package` does: local CodeUri paths and nested application templates become
    S3 locations. Returns the template and the (local file, S3 key) pairs to upload."""
    code_location = f"s3://{CODE_BUCKET}/{CODE_KEY}"
    function_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = code_location
    uploads = []
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == SERVERLESS_FUNCTION and "CodeUri" in properties:
            properties["CodeUri"] = code_location
        elif resource.get("Type") == SERVERLESS_APPLICATION and isinstance(properties.get("Location"), str):
            key = "nested/" + properties["Location"].replace(os.sep, "/")
            uploads.append((os.path.join(template_dir, properties["Location"]), key))
            properties["Location"] = f"https://s3.{region}.amazonaws.com/{CODE_BUCKET}/{key}"
    return template, uploads


def read_samconfig(path):
    """samconfig.toml as SAM CLI reads it; parameter_overrides is a shell-quoted K=V string."""
    import shlex
    import tomllib

    with open(path, "rb") as config:
        environments = tomllib.load(config)
    result = {}
    for environment, commands in environments.items():
        if not isinstance(commands, dict):
            continue
        result[environment] = {}
        for command, section in commands.items():
            settings = dict(section.get("parameters", {}))
            overrides = settings.get("parameter_overrides")
            if isinstance(overrides, str):
                settings["parameter_overrides"] = parse_params(shlex.split(overrides))
            result[environment][command] = settings
    return result


def transform(template_path, params, region):
    os.environ["AWS_DEFAULT_REGION"] = region
    from samtranslator.translator.transform import transform as sam_transform

    template, uploads = package(load_template(template_path), os.path.dirname(os.path.abspath(template_path)), region)
    return sam_transform(template, params, NoManagedPolicies()), uploads


def replace_nested_outputs(node, nested_stacks):
    """moto 5.2.1 creates nested stacks but cannot resolve `GetAtt <stack>.Outputs.<name>`
    (its Stack model has no get_cfn_attribute). For the rehearsal only, such references become
    a marker string; the template tests check the real references."""
    if isinstance(node, list):
        return [replace_nested_outputs(item, nested_stacks) for item in node]
    if not isinstance(node, dict):
        return node
    get_att = node.get("Fn::GetAtt")
    if len(node) == 1 and isinstance(get_att, list) and get_att[0] in nested_stacks:
        return NESTED_OUTPUT_MARKER + get_att[1].split(".", 1)[1]
    sub = node.get("Fn::Sub")
    if len(node) == 1 and sub is not None:
        text = sub if isinstance(sub, str) else sub[0]
        for name in nested_stacks:
            text = re.sub(r"\$\{" + re.escape(name) + r"\.Outputs\.([A-Za-z0-9]+)\}", NESTED_OUTPUT_MARKER + r"\1", text)
        node = {"Fn::Sub": text if isinstance(sub, str) else [text] + sub[1:]}
    return {key: replace_nested_outputs(value, nested_stacks) for key, value in node.items()}


def client(service, endpoint, region):
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )


def bootstrap_zip():
    # moto stores the code without running it (no Docker): a stub bootstrap is enough to exist.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, "#!/bin/sh\necho 'deploy rehearsal stub' >&2\nexit 1\n")
    return buffer.getvalue()


def invoke_permissions(lam, function_name):
    """Who may invoke the function: (principal, source ARN) pairs from its resource policy."""
    try:
        policy = json.loads(lam.get_policy(FunctionName=function_name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return []
    permissions = []
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal", {})
        source = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn", "")
        permissions.append(
            {
                "principal": principal.get("Service", "") if isinstance(principal, dict) else principal,
                "sourceArn": source,
            }
        )
    return permissions


def policy_document(document):
    """boto3 decodes IAM's URL-encoded JSON into a dict. moto 5.2.1's CloudFormation stores a
    role's inline policy as Python's repr of the dict instead of JSON, which boto3 hands back as
    a string (and which moto's own IAM checks cannot json.loads); read it either way."""
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        import ast

        return ast.literal_eval(document)


def inline_documents(iam, role_name, names):
    """The role's inline policies, each stored back as JSON (the same document) so that moto's IAM
    checks, when a test turns them on, can read what CloudFormation created."""
    documents = {}
    for name in names:
        document = policy_document(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
        iam.put_role_policy(RoleName=role_name, PolicyName=name, PolicyDocument=json.dumps(document))
        documents[name] = document
    return documents


def stack_resources(cfn, stack):
    resources = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for r in page["StackResourceSummaries"]:
            resources.append(
                {
                    "logicalId": r["LogicalResourceId"],
                    "type": r["ResourceType"],
                    "physicalId": r.get("PhysicalResourceId", ""),
                    "status": r["ResourceStatus"],
                }
            )
    return resources


def wait_for_stack(cfn, stack):
    deadline = time.monotonic() + STACK_WAIT_SECONDS
    while True:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def rehearse(template_path, endpoint, region, stack, params):
    transformed, uploads = transform(template_path, params, region)
    nested = {k for k, v in transformed["Resources"].items() if v["Type"] == "AWS::CloudFormation::Stack"}
    transformed = replace_nested_outputs(transformed, nested)

    s3 = client("s3", endpoint, region)
    create_bucket = {"Bucket": CODE_BUCKET}
    if region != "us-east-1":
        create_bucket["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create_bucket)
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=bootstrap_zip())
    for path, key in uploads:
        with open(path, "rb") as nested:
            s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=nested.read())

    cfn = client("cloudformation", endpoint, region)
    cfn.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(transformed),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    status = wait_for_stack(cfn, stack)
    description = cfn.describe_stacks(StackName=stack)["Stacks"][0]

    resources = stack_resources(cfn, stack)
    by_type = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)

    lam = client("lambda", endpoint, region)
    functions = []
    for r in by_type.get("AWS::Lambda::Function", []):
        config = lam.get_function_configuration(FunctionName=r["physicalId"])
        functions.append(
            {
                "logicalId": r["logicalId"],
                "name": config["FunctionName"],
                "arn": config["FunctionArn"],
                "runtime": config.get("Runtime"),
                "handler": config.get("Handler"),
                "role": config.get("Role"),
                "environment": config.get("Environment", {}).get("Variables", {}),
                "invokePermissions": invoke_permissions(lam, config["FunctionName"]),
            }
        )

    mappings = []
    for m in lam.list_event_source_mappings()["EventSourceMappings"]:
        mappings.append(
            {
                "uuid": m["UUID"],
                "eventSourceArn": m.get("EventSourceArn"),
                "functionArn": m.get("FunctionArn"),
                "state": m.get("State"),
                "batchSize": m.get("BatchSize"),
                "startingPosition": m.get("StartingPosition"),
            }
        )

    events = client("events", endpoint, region)
    rules = []
    for r in by_type.get("AWS::Events::Rule", []):
        rule = events.describe_rule(Name=r["physicalId"])
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        rules.append(
            {
                "logicalId": r["logicalId"],
                "name": rule["Name"],
                "arn": rule["Arn"],
                "scheduleExpression": rule.get("ScheduleExpression"),
                "state": rule.get("State"),
                "targetArns": [t["Arn"] for t in targets],
            }
        )

    iam = client("iam", endpoint, region)
    sts = client("sts", endpoint, region)
    roles = []
    for r in by_type.get("AWS::IAM::Role", []):
        role = iam.get_role(RoleName=r["physicalId"])["Role"]
        inline = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        # moto answers AssumeRole without evaluating the trust policy while IAM checks are off:
        # the rehearsal stands in for the service principal (Lambda, the EKS OIDC provider).
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="rehearsal-" + r["logicalId"][:40])["Credentials"]
        roles.append(
            {
                "logicalId": r["logicalId"],
                "name": role["RoleName"],
                "arn": role["Arn"],
                "assumeRolePolicy": role.get("AssumeRolePolicyDocument"),
                "inlinePolicies": inline,
                "inlinePolicyDocuments": inline_documents(iam, role["RoleName"], inline),
                "attachedPolicyArns": [
                    p["PolicyArn"]
                    for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
                ],
                "credentials": {
                    "accessKeyId": credentials["AccessKeyId"],
                    "secretAccessKey": credentials["SecretAccessKey"],
                    "sessionToken": credentials["SessionToken"],
                },
            }
        )

    managed_policies = []
    for r in by_type.get("AWS::IAM::ManagedPolicy", []):
        policy = iam.get_policy(PolicyArn=r["physicalId"])["Policy"]
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        managed_policies.append(
            {"logicalId": r["logicalId"], "arn": policy["Arn"], "document": policy_document(version["Document"])}
        )

    kinesis = client("kinesis", endpoint, region)
    streams = []
    for r in by_type.get("AWS::Kinesis::Stream", []):
        summary = kinesis.describe_stream_summary(StreamName=r["physicalId"])["StreamDescriptionSummary"]
        streams.append(
            {
                "logicalId": r["logicalId"],
                "name": summary["StreamName"],
                "arn": summary["StreamARN"],
                "status": summary["StreamStatus"],
            }
        )

    nested_stacks = []
    for r in by_type.get("AWS::CloudFormation::Stack", []):
        nested = cfn.describe_stacks(StackName=r["physicalId"])["Stacks"][0]
        nested_stacks.append(
            {
                "logicalId": r["logicalId"],
                "status": nested["StackStatus"],
                "parameters": {p["ParameterKey"]: p.get("ParameterValue", "") for p in nested.get("Parameters", [])},
                "resources": stack_resources(cfn, r["physicalId"]),
            }
        )

    buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    tables = client("dynamodb", endpoint, region).list_tables()["TableNames"]

    return {
        "stackStatus": status,
        "stackStatusReason": description.get("StackStatusReason", ""),
        "outputs": {o["OutputKey"]: o.get("OutputValue", "") for o in description.get("Outputs", [])},
        "resources": resources,
        "functions": functions,
        "eventSourceMappings": mappings,
        "rules": rules,
        "roles": roles,
        "managedPolicies": managed_policies,
        "streams": streams,
        "nestedStacks": nested_stacks,
        "buckets": buckets,
        "tables": tables,
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    d = commands.add_parser("decode")
    d.add_argument("--template", required=True)

    c = commands.add_parser("samconfig")
    c.add_argument("--config", required=True)

    t = commands.add_parser("transform")
    t.add_argument("--template", required=True)
    t.add_argument("--region", default="us-east-1")
    t.add_argument("--param", action="append")

    r = commands.add_parser("rehearse")
    r.add_argument("--template", required=True)
    r.add_argument("--endpoint", required=True)
    r.add_argument("--region", default="us-east-1")
    r.add_argument("--stack", required=True)
    r.add_argument("--param", action="append")

    args = parser.parse_args(argv)
    params = parse_params(getattr(args, "param", None))
    if args.command == "samconfig":
        result = read_samconfig(args.config)
    elif args.command == "decode":
        result = load_template(args.template)
    elif args.command == "transform":
        result, _ = transform(args.template, params, args.region)
    else:
        result = rehearse(args.template, args.endpoint, args.region, args.stack, params)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
