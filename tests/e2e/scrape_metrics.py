#!/usr/bin/python3
"""Scrapes a metrics endpoint and prints what a real Prometheus parser reads from it, as JSON.

Usage: scrape_metrics.py URL

The exposition text is parsed by the Prometheus Python client (Debian's
python3-prometheus-client), so a test sees exactly the samples a Prometheus server would, and
a malformed exposition fails here. Output: {"status", "content_type", "families": [{"name",
"type"}], "samples": [{"name", "labels", "value"}]}. Exit status 1 if the endpoint does not
answer 200 or the text does not parse.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=30) as reply:
        status = reply.status
        content_type = reply.headers.get("Content-Type", "")
        body = reply.read().decode("utf-8")
    families = []
    samples = []
    for family in text_string_to_metric_families(body):
        families.append({"name": family.name, "type": family.type})
        for sample in family.samples:
            samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
    print(json.dumps({"status": status, "content_type": content_type, "families": families,
                      "samples": samples}))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
