"""Prints every segment document X-Ray (moto) holds for the trace ids on stdin, one per line.

Usage: xray_documents.py <endpoint-url>  (trace ids on stdin, one a line)
BatchGetTraces takes at most 5 trace ids per call (X-Ray API reference), so ids go in fives.
"""
import sys

import boto3

endpoint = sys.argv[1]
client = boto3.client("xray", endpoint_url=endpoint, region_name="us-east-1")
ids = [line.strip() for line in sys.stdin if line.strip()]
for start in range(0, len(ids), 5):
    token = None
    for _ in range(100):
        kwargs = {"TraceIds": ids[start:start + 5]}
        if token:
            kwargs["NextToken"] = token
        page = client.batch_get_traces(**kwargs)
        for trace in page.get("Traces", []):
            for segment in trace.get("Segments", []):
                print(segment["Document"].replace("\n", " "))
        token = page.get("NextToken")
        if not token:
            break
