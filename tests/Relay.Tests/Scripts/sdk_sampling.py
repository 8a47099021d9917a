"""Drives the Python aws-xray-sdk against a relay with centralized sampling.

The SDK reads AWS_XRAY_DAEMON_ADDRESS ("udp:host:port tcp:host:port"), polls the relay's TCP
sampling endpoint for rules, then records N segments and sends them to the relay over UDP. It
prints one JSON line: how many segments were sampled, the rule that decided, and the targets
answer as the SDK parsed it (the SDK breaks on a targets answer without LastRuleModification).
Exit codes: 0 done, 3 rules never arrived within the bound.
"""
import json
import sys
import time

from aws_xray_sdk.core import xray_recorder

RULE = "pipeline-record-all"


def main():
    count = int(sys.argv[1])
    xray_recorder.configure(service="relay-sdk-test", sampling=True, context_missing="LOG_ERROR")
    sampler = xray_recorder.sampler
    sampler.start()

    deadline = time.time() + 20
    while not any(rule.name == RULE for rule in sampler._cache.rules):
        if time.time() > deadline:
            print(json.dumps({"error": "no centralized rule within 20 s"}))
            return 3
        time.sleep(0.05)

    targets, last_modified = sampler._connector.fetch_sampling_target(sampler._cache.rules)

    sampled = 0
    trace_ids = []
    for _ in range(count):
        segment = xray_recorder.begin_segment("relay-sdk-test")
        if segment.sampled:
            sampled += 1
            trace_ids.append(segment.trace_id)
        xray_recorder.end_segment()
        # Pace the UDP sends a little: loopback drops datagrams when a socket buffer overflows.
        time.sleep(0.001)

    print(json.dumps({
        "sampled": sampled,
        "count": count,
        "rule": sampler._cache.rules[0].name,
        "target": targets.get(RULE),
        "last_rule_modification": last_modified,
        "trace_ids": trace_ids,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
