#!/usr/bin/env python3
"""Writes the GitOps issue dataset of the fine-tuning quality run (bench/engine/quality.sh).

Usage: quality_dataset.py OUTPUT.jsonl [COUNT] [SEED]      (defaults: 300 records, seed 90210)

Its own templates and seed: neither the sample dataset (samples/datasets) nor the dataset
benchmark's generator (bench/datasets) is used, and none of this text is in the pretraining
corpus (llm-engine/pretraining), so a fine-tune's held-out metrics measure what it learned from
these records. Five issue types (bug, feature, question, documentation, security) over ten GitOps
tools; each record has a title, a description, a resolution and a trajectory of 3-5 steps whose
wording depends on the issue type and the tool. Python 3 standard library only; the same
arguments always give the same bytes.
"""
import json
import os
import random
import sys

TOOLS = {
    "fluxcd/flux2": ("Flux", "Kustomization", "source-controller"),
    "argoproj/argo-cd": ("Argo CD", "Application", "application-controller"),
    "helm/helm": ("Helm", "release", "helm upgrade"),
    "kubernetes-sigs/kustomize": ("kustomize", "overlay", "kustomize build"),
    "cert-manager/cert-manager": ("cert-manager", "Certificate", "cert-manager controller"),
    "prometheus-operator/prometheus-operator": ("the Prometheus operator", "ServiceMonitor", "operator"),
    "crossplane/crossplane": ("Crossplane", "Composition", "crossplane pod"),
    "external-secrets/external-secrets": ("External Secrets", "ExternalSecret", "external-secrets controller"),
    "tektoncd/pipeline": ("Tekton", "PipelineRun", "tekton-pipelines-controller"),
    "open-policy-agent/gatekeeper": ("Gatekeeper", "ConstraintTemplate", "gatekeeper audit"),
}
NAMESPACES = ["shop", "ledger-prod", "infra-tools", "ml-serving", "edge", "qa", "billing", "core-platform"]
VERSIONS = ["v0.9.2", "v1.4.0", "v1.7.3", "v2.0.1", "v2.3.5", "v2.11.0", "v3.1.2", "v3.6.0"]
ERRORS = ["context deadline exceeded", "connection refused", "field is immutable", "no matches for kind",
          "admission webhook denied the request", "x509: certificate signed by unknown authority",
          "too many open files", "resource version too old"]
FIELDS = ["spec.interval", "spec.timeout", "spec.retries", "spec.suspend", "metadata.annotations", "spec.selector"]

TEMPLATES = {
    "bug": {
        "titles": ["{kind} stuck after upgrading {name} to {version}",
                   "{component} crashes with '{error}' on {version}",
                   "{kind} reconciled twice and reverts changes in {ns}",
                   "Memory of {component} keeps growing until OOMKilled",
                   "{name} {version} ignores {field} on {kind}"],
        "descriptions": ["Since we moved to {version}, every {kind} in namespace {ns} stays unready. The logs of "
                         "{component} show '{error}' every few seconds. Rolling back fixes it.",
                         "After the upgrade the {component} restarts in a loop and prints '{error}'. We run {name} "
                         "{version} on three clusters and all of them show it.",
                         "Setting {field} on a {kind} has no effect in {version}: the controller keeps the old value. "
                         "The namespace is {ns}."],
        "resolution": "A regression in {version}; fixed in the next patch release of {name}.",
        "steps": [["Reproduce the failure with {name} {version} on a test cluster",
                   "Collect the logs of {component} around the error",
                   "Bisect the change that introduced the regression",
                   "Fix the reconcile loop and add a regression test",
                   "Release a patch version and ask the reporter to upgrade"],
                  ["Confirm the bug on {version} with the reporter's {kind}",
                   "Read the {component} logs and find where '{error}' comes from",
                   "Patch the controller to handle the failing case",
                   "Add a regression test"]],
    },
    "feature": {
        "titles": ["Support {field} on {kind}",
                   "Add an option to pause {kind} reconciliation per namespace",
                   "Allow {name} to read credentials from workload identity",
                   "Expose reconcile duration metrics for every {kind}",
                   "Feature request: dry-run mode for {component}"],
        "descriptions": ["It would help us if {name} supported {field} on {kind}, so teams in {ns} can tune it "
                         "without forking. Other tools offer something similar.",
                         "We would like {component} to offer this as an opt-in setting. Today we patch the "
                         "manifests by hand for every cluster.",
                         "Please consider adding this to {name}; several teams would use it and we can help with "
                         "the implementation."],
        "resolution": "Accepted as an enhancement; implemented behind a new field of {kind}.",
        "steps": [["Discuss the use case with the maintainers",
                   "Write a short design proposal for the new field",
                   "Implement the option in {component} behind a flag",
                   "Document the new field and add an example"],
                  ["Collect use cases from other users",
                   "Agree on the API of the new field on {kind}",
                   "Implement it with tests",
                   "Document the option in the user guide"]],
    },
    "question": {
        "titles": ["How do I make {kind} wait for another resource?",
                   "Is it possible to use {name} with a private registry?",
                   "What is the recommended way to structure {kind} per environment?",
                   "How can I see why a {kind} is not ready?",
                   "Question about {field} on {kind}"],
        "descriptions": ["I am new to {name} and could not find this in the docs. We deploy to namespace {ns} and "
                         "want to know the usual approach.",
                         "Our team uses {name} {version}. What is the intended way to do this? Any pointers "
                         "would be appreciated.",
                         "Is there an example of this somewhere? I tried a few things with {field} but I am not "
                         "sure I understand how {component} uses it."],
        "resolution": "Answered with a pointer to the documentation and an example.",
        "steps": [["Ask the reporter for the manifests they use",
                   "Point to the section of the documentation that explains it",
                   "Share a small example {kind}",
                   "Close the issue as answered"],
                  ["Explain how {component} handles this",
                   "Link the relevant documentation page",
                   "Convert the issue to a discussion"]],
    },
    "documentation": {
        "titles": ["Docs: the {kind} reference does not describe {field}",
                   "Typo and broken link in the {name} installation guide",
                   "Document how to upgrade {name} from {version}",
                   "The example {kind} in the docs does not apply",
                   "Missing docs for {component} flags"],
        "descriptions": ["The documentation page for {kind} lists the fields but {field} is missing, and the "
                         "example still uses an old API version.",
                         "While following the guide for {version} I found a broken link and a command that no "
                         "longer works. The page should be updated.",
                         "The docs do not explain this at all; a short section with an example would save new "
                         "users a lot of time."],
        "resolution": "The documentation was updated and the example fixed.",
        "steps": [["Find the outdated page in the docs folder",
                   "Update the text and the example {kind}",
                   "Fix the broken links",
                   "Ask a maintainer to review the docs change"],
                  ["Add the missing section to the documentation",
                   "Test the example against {version}",
                   "Merge the docs pull request"]],
    },
    "security": {
        "titles": ["{component} runs as root and mounts the host filesystem",
                   "Secrets from {kind} appear in {component} logs",
                   "CVE in a dependency of {name} {version}",
                   "RBAC of {name} grants cluster-admin to {component}",
                   "Token of {component} is not rotated"],
        "descriptions": ["A scan of {name} {version} reports a vulnerable dependency in the image of {component}. "
                         "We cannot deploy images with known CVEs to {ns}.",
                         "The {component} prints the values of secrets at debug level, so anyone who can read the "
                         "logs in {ns} can read the credentials.",
                         "The default RBAC gives {component} far more permissions than it needs, which breaks our "
                         "least privilege policy."],
        "resolution": "Fixed in a security release; the advisory lists the affected versions.",
        "steps": [["Move the report to a private security advisory",
                   "Assess which versions are affected",
                   "Update the vulnerable dependency and rebuild the image",
                   "Publish a security release and the advisory"],
                  ["Confirm the issue privately with the reporter",
                   "Reduce the permissions of {component} to the minimum",
                   "Redact secrets from the logs",
                   "Release a fixed version and credit the reporter"]],
    },
}


def fill(text, slots):
    return text.format(**slots)


def record(rng, number):
    issue_type = rng.choice(sorted(TEMPLATES))
    t = TEMPLATES[issue_type]
    repository = rng.choice(sorted(TOOLS))
    name, kind, component = TOOLS[repository]
    slots = {"name": name, "kind": kind, "component": component, "ns": rng.choice(NAMESPACES),
             "version": rng.choice(VERSIONS), "error": rng.choice(ERRORS), "field": rng.choice(FIELDS)}
    title = fill(rng.choice(t["titles"]), slots)
    title = title[0].upper() + title[1:]
    steps = [fill(s, slots) for s in rng.choice(t["steps"])]
    return {
        "repository": repository,
        "issue_number": 4000 + number,
        "issue_title": title,
        "issue_description": fill(rng.choice(t["descriptions"]), slots),
        "issue_type": issue_type,
        "resolution": fill(t["resolution"], slots),
        "trajectory": steps,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    output = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 90210
    rng = random.Random(seed)
    part = output + ".part"
    with open(part, "w", encoding="utf-8") as f:
        for i in range(count):
            f.write(json.dumps(record(rng, i)) + "\n")
    os.replace(part, output)


if __name__ == "__main__":
    main()
