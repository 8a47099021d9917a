#!/usr/bin/env python3
"""Generates athena/template-athena.yaml from the DDL in athena/tables/*.sql and the named
queries in athena/queries/*.sql, so that the .sql files stay the single source of truth.

    python3 athena/generate-template.py           # rewrite the template
    python3 athena/generate-template.py --check   # exit 1 if the committed template is stale

Standard library only. The DDL is read in the restricted form the files use (one
CREATE EXTERNAL TABLE each, Hive types, PARTITIONED BY, ROW FORMAT SERDE, optional
WITH SERDEPROPERTIES, STORED AS INPUTFORMAT/OUTPUTFORMAT, LOCATION, TBLPROPERTIES).
The same form is parsed in C# by Pipeline.Core.Query.AthenaTableDefinition for DuckDB.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent
TEMPLATE = ROOT / "template-athena.yaml"
TEMPLATE_PARAMETERS = ("ArchiveBucket", "AthenaResultsBucket", "GlueDatabaseName", "AthenaBytesScannedCutoff")
# AWS::Athena::NamedQuery limits (CloudFormation resource reference).
DESCRIPTION_MAX = 1024
QUERY_MAX = 262144
# Where the workgroup puts query results, under the results bucket (one home: the workgroup and the output).
RESULTS_PREFIX = "athena-results/"


def strip_comments(sql):
    return "\n".join(l for l in sql.splitlines() if not l.lstrip().startswith("--"))


def split_top_level(text, sep=","):
    parts, depth, current, quote = [], 0, [], None
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'`":
            quote = ch
        elif ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def balanced(text, start):
    """Returns the text inside the parenthesis that opens at text[start]."""
    depth, quote = 0, None
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch == "'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
    raise ValueError("unbalanced parenthesis")


def columns(body):
    result = []
    for part in split_top_level(body):
        name, type_ = part.split(None, 1)
        result.append({"Name": name.strip("`"), "Type": re.sub(r"\s+", "", type_)})
    return result


def properties(body):
    result = {}
    for part in split_top_level(body):
        m = re.fullmatch(r"'([^']*)'\s*=\s*'([^']*)'", part.strip())
        if not m:
            raise ValueError(f"property not in 'key' = 'value' form: {part}")
        result[m.group(1)] = m.group(2)
    return result


def parse_table(path):
    sql = strip_comments(path.read_text())
    m = re.search(r"CREATE\s+EXTERNAL\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)\s*", sql, re.I)
    if not m:
        raise ValueError(f"{path}: no CREATE EXTERNAL TABLE")
    table = {"name": m.group(1)}
    body, pos = balanced(sql, m.end())
    table["columns"] = columns(body)
    rest = sql[pos:]
    m = re.search(r"PARTITIONED\s+BY\s*\(", rest, re.I)
    table["partitions"] = columns(balanced(rest, m.end() - 1)[0]) if m else []
    table["serde"] = re.search(r"ROW\s+FORMAT\s+SERDE\s+'([^']+)'", rest, re.I).group(1)
    m = re.search(r"WITH\s+SERDEPROPERTIES\s*\(", rest, re.I)
    table["serde_properties"] = properties(balanced(rest, m.end() - 1)[0]) if m else {}
    table["input_format"] = re.search(r"INPUTFORMAT\s+'([^']+)'", rest, re.I).group(1)
    table["output_format"] = re.search(r"OUTPUTFORMAT\s+'([^']+)'", rest, re.I).group(1)
    table["location"] = re.search(r"LOCATION\s+'([^']+)'", rest, re.I).group(1)
    m = re.search(r"TBLPROPERTIES\s*\(", rest, re.I)
    table["properties"] = properties(balanced(rest, m.end() - 1)[0]) if m else {}
    return table


def parse_query(path):
    text = path.read_text()
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.lower().startswith("param:"):
            break
        header.append(body)
    description = " ".join(header).strip()
    if not description:
        raise ValueError(f"{path}: the header comment must say what the query answers")
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 3] + "..."
    if len(text) > QUERY_MAX:
        raise ValueError(f"{path}: longer than a named query may be")
    return {"name": path.stem, "description": description, "sql": text.rstrip("\n")}


def pascal(name):
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_]", name) if p)


def q(value):
    # JSON double-quoted strings are valid YAML double-quoted scalars.
    return json.dumps(value, ensure_ascii=False)


def sub(value):
    """A string with ${TemplateParameter} becomes !Sub; any other ${x} (the projection
    template's ${dt}/${hour}) is escaped as ${!x} so CloudFormation leaves it literal."""
    if "${" not in value:
        return q(value)
    escaped = re.sub(r"\$\{(\w+)\}", lambda m: m.group(0) if m.group(1) in TEMPLATE_PARAMETERS else "${!" + m.group(1) + "}", value)
    return "!Sub " + q(escaped)


def emit_columns(lines, indent, cols):
    for c in cols:
        lines.append(f"{indent}- Name: {q(c['Name'])}")
        lines.append(f"{indent}  Type: {q(c['Type'])}")


def render(tables, queries):
    out = [
        "# GENERATED by athena/generate-template.py from athena/tables/*.sql and athena/queries/*.sql.",
        "# Do not edit by hand: edit the .sql files and rerun the generator (a test checks it is current).",
        "AWSTemplateFormatVersion: \"2010-09-09\"",
        "Description: \"Glue tables over the trace archive (partition projection), an Athena workgroup and the named queries\"",
        "Parameters:",
        "  ArchiveBucket:",
        "    Type: String",
        "    Description: Name of the S3 bucket the ingest archives segments, quarantine and usage to.",
        "  AthenaResultsBucket:",
        "    Type: String",
        "    Description: Name of the S3 bucket Athena writes query results to.",
        "  GlueDatabaseName:",
        "    Type: String",
        "    Default: xray_pipeline",
        "    AllowedPattern: \"^[a-z0-9_]{1,255}$\"",
        "    Description: \"Glue database holding the archive tables (lowercase and underscores, which Athena needs no quotes for)\"",
        "  AthenaBytesScannedCutoff:",
        "    Type: Number",
        "    Default: 10737418240",
        "    MinValue: 10000000",
        "    Description: Bytes one query may scan before Athena cancels it (default 10 GiB).",
        "Resources:",
        "  ArchiveDatabase:",
        "    Type: AWS::Glue::Database",
        "    Properties:",
        "      CatalogId: !Ref AWS::AccountId",
        "      DatabaseInput:",
        "        Name: !Ref GlueDatabaseName",
        "        Description: X-Ray segment archive written by the pipeline's ingest function.",
    ]
    for t in tables:
        out += [
            f"  {pascal(t['name'])}Table:",
            "    Type: AWS::Glue::Table",
            "    Properties:",
            "      CatalogId: !Ref AWS::AccountId",
            "      DatabaseName: !Ref ArchiveDatabase",
            "      TableInput:",
            f"        Name: {q(t['name'])}",
            "        TableType: EXTERNAL_TABLE",
            "        Parameters:",
        ]
        for k, v in t["properties"].items():
            out.append(f"          {q(k)}: {sub(v)}")
        if t["partitions"]:
            out.append("        PartitionKeys:")
            emit_columns(out, "          ", t["partitions"])
        out += [
            "        StorageDescriptor:",
            f"          Location: {sub(t['location'])}",
            f"          InputFormat: {q(t['input_format'])}",
            f"          OutputFormat: {q(t['output_format'])}",
            "          SerdeInfo:",
            f"            SerializationLibrary: {q(t['serde'])}",
        ]
        if t["serde_properties"]:
            out.append("            Parameters:")
            for k, v in t["serde_properties"].items():
                out.append(f"              {q(k)}: {q(v)}")
        out.append("          Columns:")
        emit_columns(out, "            ", t["columns"])
    out += [
        "  AthenaWorkGroup:",
        "    Type: AWS::Athena::WorkGroup",
        "    Properties:",
        "      Name: !Sub \"${AWS::StackName}-archive\"",
        "      Description: \"Queries over the trace archive; results encrypted, scans capped\"",
        "      State: ENABLED",
        "      RecursiveDeleteOption: true",
        "      WorkGroupConfiguration:",
        "        EnforceWorkGroupConfiguration: true",
        "        PublishCloudWatchMetricsEnabled: true",
        "        BytesScannedCutoffPerQuery: !Ref AthenaBytesScannedCutoff",
        "        ResultConfiguration:",
        "          OutputLocation: !Sub \"s3://${AthenaResultsBucket}/" + RESULTS_PREFIX + "\"",
        "          EncryptionConfiguration:",
        "            EncryptionOption: SSE_S3",
    ]
    for nq in queries:
        out += [
            f"  {pascal(nq['name'])}Query:",
            "    Type: AWS::Athena::NamedQuery",
            "    Properties:",
            f"      Name: {q(nq['name'])}",
            f"      Description: {q(nq['description'])}",
            "      Database: !Ref ArchiveDatabase",
            "      WorkGroup: !Ref AthenaWorkGroup",
            "      QueryString: |-",
        ]
        out += [("        " + line).rstrip() for line in nq["sql"].splitlines()]
    out += [
        "Outputs:",
        "  ArchiveDatabaseName:",
        "    Value: !Ref ArchiveDatabase",
        "  AthenaWorkGroupName:",
        "    Value: !Ref AthenaWorkGroup",
        "  AthenaResultsLocation:",
        "    Description: The workgroup's (enforced) result location; pass it as ResultConfiguration too.",
        "    Value: !Sub \"s3://${AthenaResultsBucket}/" + RESULTS_PREFIX + "\"",
    ]
    return "\n".join(out) + "\n"


def main(argv):
    tables = [parse_table(p) for p in sorted((ROOT / "tables").glob("*.sql"))]
    queries = [parse_query(p) for p in sorted((ROOT / "queries").glob("*.sql"))]
    text = render(tables, queries)
    if "--check" in argv:
        current = TEMPLATE.read_text() if TEMPLATE.exists() else ""
        if current != text:
            print(f"{TEMPLATE.relative_to(ROOT.parent)} is stale: run python3 athena/generate-template.py", file=sys.stderr)
            return 1
        print(f"{TEMPLATE.relative_to(ROOT.parent)} is current ({len(tables)} tables, {len(queries)} named queries)")
        return 0
    TEMPLATE.write_text(text)
    print(f"wrote {TEMPLATE.relative_to(ROOT.parent)} ({len(tables)} tables, {len(queries)} named queries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
