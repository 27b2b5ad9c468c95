#!/usr/bin/env python3
"""Writes a large, deterministic JSONL dataset for the dataset upload benchmark.

Usage: generate.py SAMPLE.jsonl OUTPUT.jsonl TARGET_BYTES

Repeats the records of the sample dataset (samples/datasets/gitops-issues.jsonl) with varied
fields until the file holds at least TARGET_BYTES bytes (whole lines; it ends with a newline):
repositories (the sample's 13 plus numbered forks, about 400 in all), issue types (ten
labels), issue numbers, creation dates (2019-2025, some as plain dates), titles and URLs.
Descriptions, labels, resolutions and trajectories come from the sample as they are, so every
record is valid for dataset-service's schema. The same arguments always give the same bytes.

Writes OUTPUT.part first and renames it, so an interrupted run never leaves a short OUTPUT.
"""
import datetime
import json
import os
import random
import sys

ISSUE_TYPES = ["bug", "feature", "question", "documentation", "enhancement", "regression",
               "security", "performance", "support", "ci_cd"]
FORKS_PER_REPOSITORY = 30


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    sample, output, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(sample, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    if not records:
        sys.exit("no records in " + sample)

    rng = random.Random(20240317)
    base_repositories = sorted({r["repository"] for r in records})
    repositories = list(base_repositories)
    for owner_name in base_repositories:
        owner, name = owner_name.split("/", 1)
        repositories += [f"{owner}-fork{i}/{name}" for i in range(1, FORKS_PER_REPOSITORY + 1)]
    start = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
    span_seconds = int((datetime.datetime(2025, 12, 31, tzinfo=datetime.timezone.utc) - start).total_seconds())

    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    written = 0
    n = 0
    part = output + ".part"
    with open(part, "wb", buffering=4 << 20) as out:
        while written < target:
            base = records[n % len(records)]
            record = dict(base)
            repository = repositories[rng.randrange(len(repositories))]
            number = 1000 + n
            created = start + datetime.timedelta(seconds=rng.randrange(span_seconds))
            record["repository"] = repository
            record["issue_number"] = number
            record["issue_title"] = f"{base['issue_title']} [{n}]"
            record["issue_type"] = ISSUE_TYPES[rng.randrange(len(ISSUE_TYPES))]
            if n % 10 == 0:
                record["created_at"] = created.strftime("%Y-%m-%d")
            else:
                record["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
            record["url"] = f"https://github.com/{repository}/issues/{number}"
            if n % 7 == 3:
                del record["resolution"]  # trajectory alone
            elif n % 7 == 5:
                del record["trajectory"]  # resolution alone
            line = (dumps(record) + "\n").encode("utf-8")
            out.write(line)
            written += len(line)
            n += 1
    os.replace(part, output)
    print(f"{output}: {n} records, {written} bytes")


if __name__ == "__main__":
    main()
