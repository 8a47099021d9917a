#!/usr/bin/env python3
"""Generates the SDK corpus for Pipeline.Core.Tests with the Python aws-xray-sdk.

Builds segments and subsegments with the SDK's own models (Segment, Subsegment, add_exception,
put_http_meta, set_aws, set_sql, put_annotation, put_metadata) and writes what serialize() returns,
so the documents have exactly the SDK's shape. A few are also sent through the SDK's UDPEmitter to
a loopback socket, and the received datagrams (header line included) are written as *.datagram.

Seeded ids, trace ids and fixed times (around 2026-11-25T10:00Z), so re-running produces the same
documents except for the stack frame paths and working directory the SDK records. Usage: python3 generate_corpus.py [output-dir]   (default: sdk/ next to this file)
"""
import os
import random
import socket
import sys
import traceback

from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.models import http
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.subsegment import Subsegment
from aws_xray_sdk.version import VERSION

BASE = 1764064800.0  # 2026-11-25T10:00:00Z
rng = random.Random(20261125)


def hex_id(digits):
    return "".join(rng.choice("0123456789abcdef") for _ in range(digits))


def trace_id(at):
    return "1-%08x-%s" % (int(at), hex_id(24))


def segment(name, at, **kwargs):
    seg = Segment(name, entityid=hex_id(16), traceid=trace_id(at), sampled=True, **kwargs)
    seg.start_time = at
    return seg


def sub(parent, root, name, namespace, at):
    s = Subsegment(name, namespace, root)
    s.id = hex_id(16)
    s.start_time = at
    parent.add_subsegment(s)
    return s


def close(entity, end):
    # Segment.close/Subsegment.close stamp end_time and flip in_progress, as the recorder does.
    entity.close(end)


def http_meta(entity, method, url, status, user_agent=None, client_ip=None):
    entity.put_http_meta(http.METHOD, method)
    entity.put_http_meta(http.URL, url)
    if user_agent:
        entity.put_http_meta(http.USER_AGENT, user_agent)
    if client_ip:
        entity.put_http_meta(http.CLIENT_IP, client_ip)
    if status is not None:
        entity.put_http_meta(http.STATUS, status)
        entity.apply_status_code(status)


def raise_and_record(entity, exc_type, message, remote=False):
    try:
        raise exc_type(message)
    except Exception as e:  # noqa: BLE001 - any exception is what we record
        entity.add_exception(e, traceback.extract_stack(), remote=remote)


def docs():
    t = BASE
    out = {}

    seg = segment("orders-api", t)
    http_meta(seg, "GET", "https://orders.example.com/orders/42", 200, "curl/8.5.0", "10.0.0.7")
    seg.set_user("alice")
    close(seg, t + 0.031)
    out["segment-http-200"] = seg

    t += 1
    seg = segment("orders-api", t)
    seg.origin = "AWS::EC2::Instance"
    seg.set_aws({"ec2": {"instance_id": "i-0abc123def4567890", "availability_zone": "us-east-1a"},
                 "xray": {"sdk": "X-Ray for Python", "sdk_version": VERSION}})
    http_meta(seg, "POST", "https://orders.example.com/orders", 500)
    raise_and_record(seg, RuntimeError, "database unavailable")
    close(seg, t + 0.250)
    out["segment-fault-with-cause"] = seg

    t += 1
    seg = segment("checkout", t)
    http_meta(seg, "POST", "https://shop.example.com/checkout?cart=7", 200)
    ddb = sub(seg, seg, "DynamoDB", "aws", t + 0.002)
    ddb.set_aws({"operation": "GetItem", "region": "us-east-1", "request_id": "ABCDEF0123456789ABCDEF0123456789",
                 "table_name": "carts", "retries": 0})
    http_meta(ddb, None or "POST", "https://dynamodb.us-east-1.amazonaws.com/", 200)
    close(ddb, t + 0.012)
    sqs = sub(seg, seg, "SQS", "aws", t + 0.013)
    sqs.set_aws({"operation": "SendMessage", "region": "us-east-1", "request_id": "5d1f4c3e-0f6b-5b0e-8a3b-4d2c1b0a9f8e",
                 "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/orders"})
    close(sqs, t + 0.020)
    s3 = sub(seg, seg, "S3", "aws", t + 0.021)
    s3.set_aws({"operation": "PutObject", "region": "us-east-1", "bucket_name": "receipts", "key": "r/1.pdf"})
    close(s3, t + 0.040)
    remote = sub(seg, seg, "payments.example.com", "remote", t + 0.041)
    http_meta(remote, "POST", "https://payments.example.com/charge", 201)
    close(remote, t + 0.090)
    db = sub(seg, seg, "app@db.internal", "remote", t + 0.091)
    db.set_sql({"url": "postgresql://db.internal:5432/app", "database_type": "PostgreSQL",
                "database_version": "16.2", "driver_version": "psycopg2 2.9.9", "user": "app",
                "sanitized_query": "SELECT * FROM carts WHERE id = %s"})
    close(db, t + 0.095)
    close(seg, t + 0.100)
    out["segment-aws-sql-remote"] = seg

    t += 1
    seg = segment("catalog", t)
    http_meta(seg, "GET", "https://catalog.example.com/items/missing", 404)
    close(seg, t + 0.005)
    out["segment-error-404"] = seg

    t += 1
    seg = segment("catalog", t)
    http_meta(seg, "GET", "https://catalog.example.com/items", 429)
    close(seg, t + 0.003)
    out["segment-throttle-429"] = seg

    t += 1
    seg = segment("long-poll", t)
    http_meta(seg, "GET", "https://events.example.com/stream", None)
    out["segment-in-progress"] = seg  # never closed: in_progress stays true

    t += 1
    seg = segment("reports", t)
    seg.put_annotation("customer_tier", "gold")
    seg.put_annotation("items", 3)
    seg.put_annotation("cached", False)
    seg.put_metadata("request", {"path": "/reports/7", "filters": {"year": 2026, "tags": ["a", "b"]}}, "app")
    seg.put_metadata("debug", "slow path taken")
    close(seg, t + 6.5)
    out["segment-annotations-metadata-slow"] = seg

    t += 1
    seg = segment("worker", t)
    seg.origin = "AWS::Lambda::Function"
    parent = seg
    for depth in range(5):
        child = sub(parent, seg, "step-%d" % depth, "local", t + 0.001 * (depth + 1))
        parent = child
    raise_and_record(parent, ValueError, "bad input", remote=False)
    parent.add_error_flag()
    node = parent
    end = t + 0.5
    while node is not seg:
        close(node, end)
        end += 0.001
        node = next(s for s in all_subsegments(seg) if node in s.subsegments) if node.parent_id != seg.id else seg
    close(seg, t + 0.6)
    out["segment-nested-5-error"] = seg

    t += 1
    seg = segment("login", t)
    http_meta(seg, "POST", "https://auth.example.com/login?token=s3cr3t-value&next=%2Fhome", 200)
    seg.put_metadata("config", {"db_password": "hunter2", "region": "eu-west-1"}, "app")
    seg.put_annotation("api_key_hint", "abcd")
    db = sub(seg, seg, "users@db", "remote", t + 0.002)
    db.set_sql({"url": "mysql://admin:pa55word@db.internal:3306/users", "database_type": "MySQL",
                "sanitized_query": "SELECT id FROM users WHERE email = 'bob@example.com' AND age > 21"})
    close(db, t + 0.004)
    close(seg, t + 0.010)
    out["segment-with-secrets"] = seg

    t += 1
    seg = segment("café-service", t)
    http_meta(seg, "GET", "https://example.com/ünïcode", 200)
    close(seg, t + 0.001)
    out["segment-unicode-name"] = seg

    t += 1
    seg = segment("batch", t)
    streamed = sub(seg, seg, "long-task", "local", t + 0.01)
    close(streamed, t + 0.02)
    out["independent-subsegment"] = streamed  # serialized alone, as the SDK streams subsegments

    t += 1
    seg = segment("throttled-client", t)
    ddb = sub(seg, seg, "DynamoDB", "aws", t + 0.001)
    ddb.set_aws({"operation": "PutItem", "region": "us-east-1", "table_name": "hot"})
    http_meta(ddb, "POST", "https://dynamodb.us-east-1.amazonaws.com/", 400)
    ddb.add_throttle_flag()
    raise_and_record(ddb, RuntimeError, "ProvisionedThroughputExceededException", remote=True)
    close(ddb, t + 0.002)
    close(seg, t + 0.003)
    out["segment-subsegment-throttle-remote-cause"] = seg
    return out


def all_subsegments(entity):
    for s in entity.subsegments:
        yield s
        yield from all_subsegments(s)


def capture_datagrams(entities):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    emitter = UDPEmitter("127.0.0.1:%d" % listener.getsockname()[1])
    received = {}
    for name, entity in entities.items():
        emitter.send_entity(entity)
        received[name] = listener.recvfrom(65536)[0]
    listener.close()
    return received


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "sdk")
    os.makedirs(out_dir, exist_ok=True)
    entities = docs()
    for name, entity in entities.items():
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            f.write(entity.serialize())
    picked = {k: entities[k] for k in ("segment-http-200", "segment-aws-sql-remote", "independent-subsegment")}
    for name, datagram in capture_datagrams(picked).items():
        with open(os.path.join(out_dir, name + ".datagram"), "wb") as f:
            f.write(datagram)
    print("aws-xray-sdk %s: wrote %d documents and %d datagrams to %s" % (VERSION, len(entities), len(picked), out_dir))


if __name__ == "__main__":
    main()
