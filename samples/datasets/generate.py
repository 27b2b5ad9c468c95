#!/usr/bin/env python3
"""Generate the mlinfra sample dataset of GitOps / infrastructure issues.

The records are synthetic: they were written for mlinfra from hand-written,
per-repository building blocks (titles, descriptions, resolutions and
maintainer trajectories) that are combined with varying details (versions
that match the issue date, resource names, error messages, ...).  Nothing is
scraped from GitHub; repository names are real so the text is realistic, but
issue numbers, URLs and contents are invented.

Usage:
    python3 generate.py                 # writes gitops-issues.jsonl and gitops-issues.json
    python3 generate.py --stats         # also prints counts per type and repository
    python3 generate.py --seed 7 --out-dir /tmp/x

Deterministic for a given seed; Python 3 standard library only.
"""

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import sys

DEFAULT_SEED = 20250630
START = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
END = dt.datetime(2025, 6, 30, 23, 59, 59, tzinfo=dt.timezone.utc)
TYPES = ("bug", "feature", "question")

# --------------------------------------------------------------------------
# Shared slot values (available to every template)
# --------------------------------------------------------------------------
GLOBAL_SLOTS = {
    "ns": ["payments", "platform-system", "observability", "team-a", "checkout",
           "data-pipeline", "staging", "prod-apps", "identity", "search"],
    "app": ["billing-api", "checkout-web", "orders-svc", "auth-gateway", "inventory",
            "search-indexer", "notifications", "ledger", "catalog", "shipping-worker"],
    "cluster": ["prod-eu-west-1", "staging-us-east-1", "dev-kind", "gke-prod-01",
                "aks-shared", "eks-platform", "onprem-rke2"],
}

# Kubernetes minor releases, used for the {k8s} / {k8sv} slots everywhere.
K8S_TIMELINE = [("2022-12-08", "1.26"), ("2023-04-11", "1.27"), ("2023-08-15", "1.28"),
                ("2023-12-13", "1.29"), ("2024-04-17", "1.30"), ("2024-08-13", "1.31"),
                ("2024-12-11", "1.32"), ("2025-04-23", "1.33")]

GENERIC_TAILS = {
    "bug": ["Happy to provide more logs if needed.",
            "It reproduces consistently on our side.",
            "I can share a minimal reproduction repository if that helps.",
            "This is blocking our production rollout.",
            "Full debug logs are attached below.",
            None, None, None, None],
    "feature": ["Happy to contribute a PR if the approach sounds reasonable.",
                "Several teams in our organisation would use this.",
                "Other tools in the ecosystem already offer something similar.",
                "We currently maintain an internal fork to get this behaviour.",
                None, None, None, None],
    "question": ["I could not find this in the documentation.",
                 "Any pointers would be appreciated.",
                 "Apologies if this is already covered somewhere.",
                 "Thanks in advance for any help.",
                 None, None, None, None],
}

GENERIC_FIRST_STEPS = {
    "bug": ["Ask the reporter for exact versions and full controller logs",
            "Label as needs-triage and request a minimal reproduction"],
    "feature": ["Collect use cases from other users in the thread"],
    "question": ["Ask the reporter for the manifests they are applying"],
}
GENERIC_LAST_STEPS = {
    "bug": ["Add a regression test", "Close once the reporter confirms the fix"],
    "feature": ["Link related issues and discussions"],
    "question": ["Close as answered", "Convert to a GitHub Discussion", "Add an FAQ entry to the docs"],
}


def parse_date(s):
    return dt.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)


def T(title, desc, res, steps, labels=(), /, **slots):
    """One hand-written building block.

    title/desc may be strings; res may be a string or a list of alternatives;
    steps is the maintainer trajectory (2-6 imperative steps).  Keyword
    arguments define template-specific slots; a name like ``a__b`` defines
    paired slots whose values are tuples.
    """
    if not 2 <= len(steps) <= 6:
        raise ValueError("trajectory needs 2-6 steps: %r" % title)
    # "since" is reserved: the earliest plausible date for this kind of issue
    # (for example after the feature it mentions existed).
    since = slots.pop("since", None)
    return {"title": title, "desc": desc, "res": res if isinstance(res, list) else [res],
            "steps": list(steps), "labels": list(labels), "slots": slots,
            "since": parse_date(since) if since else START}


# --------------------------------------------------------------------------
# Per-repository building blocks
# --------------------------------------------------------------------------
REPOS = {}

REPOS["kubernetes/kubernetes"] = dict(
    timeline=[("2022-12-08", "1.26"), ("2023-04-11", "1.27"), ("2023-08-15", "1.28"),
              ("2023-12-13", "1.29"), ("2024-04-17", "1.30"), ("2024-08-13", "1.31"),
              ("2024-12-11", "1.32"), ("2025-04-23", "1.33")],
    prefix="v", numbers=(115200, 132400),
    type_labels={"bug": "kind/bug", "feature": "kind/feature", "question": "kind/support"},
    extra_labels={"bug": ["needs-triage", "triage/accepted", "priority/important-soon"],
                  "feature": ["needs-triage", "lifecycle/frozen"],
                  "question": ["needs-triage", "triage/support"]},
    templates={
        "bug": [
            T("Pods stuck in Terminating on {node} after node reboot with {ver}",
              "After a kernel-update reboot of `{node}`, several pods in namespace `{ns}` stay in `Terminating` for hours even though the node is Ready again. "
              "The kubelet log repeats `Failed to remove cgroup (will retry): rmdir /sys/fs/cgroup/kubepods.slice/...: device or resource busy`. "
              "The cluster runs {ver} with containerd 1.7 and cgroup v2.",
              ["A leaked process from a hostPath-mounted debug tool kept the cgroup busy; the kubelet cleans up correctly once it exits. A docs note on cgroup v2 cleanup was added and the retry backoff was fixed in {fix}.",
               "Duplicate of a known kubelet cgroup v2 cleanup bug; the fix was cherry-picked and ships in {fix}. Upgrading the node pool released the stuck pods."],
              ["Reproduce on a kind cluster with cgroup v2 and {ver}",
               "Collect kubelet logs with `journalctl -u kubelet` from the affected node",
               "Inspect the leftover cgroup with `systemd-cgls`",
               "Identify the process pinning the cgroup",
               "Cherry-pick the fix to the release branch"],
              ["sig/node"],
              node=["ip-10-0-3-17.ec2.internal", "worker-2", "gke-pool-a-7f3c", "aks-nodepool1-000003"]),
            T("HPA for {app} scales to maxReplicas when {metric} metrics are missing",
              "The HorizontalPodAutoscaler for `{app}` jumps straight to `maxReplicas` whenever metrics-server fails to scrape one of its pods. "
              "`kubectl describe hpa {app} -n {ns}` shows `FailedGetResourceMetric: unable to get metrics for resource {metric}: no metrics returned from resource metrics API`. "
              "I expected the HPA to keep the current replica count until metrics come back.",
              ["The jump came from a `behavior.scaleUp` policy with `stabilizationWindowSeconds: 0` combined with freshly started pods; tuning the scale-up policy fixed it. Closed as working as intended.",
               "Confirmed a bug in how the replica calculator treated pods without metrics during readiness; fixed in {fix}."],
              ["Reproduce with a two-replica Deployment and metrics-server paused",
               "Read the HPA controller logs at `-v=4`",
               "Compare the computed desired replicas with the HPA status",
               "Review the `behavior` section of the HPA spec"],
              ["sig/autoscaling"],
              metric=["cpu", "memory"]),
            T("kube-proxy ({mode}) keeps routing to terminated endpoints of Service {svc}",
              "During a rolling update, connections to the ClusterIP Service `{svc}` time out for 20-40 seconds. "
              "The EndpointSlice already lists only the new pod IPs, but the node's {mode} rules still point at the old ones. "
              "Restarting the kube-proxy pod on that node restores traffic immediately. Cluster version is {ver}.",
              ["kube-proxy was throttled by `minSyncPeriod: 30s` from the distribution's defaults; lowering it to 1s removed the gap. A warning for very large sync periods was added.",
               "Fixed a race in the EndpointSlice change tracker that dropped an update when two slices changed in the same sync; the patch is in {fix}."],
              ["Reproduce with a 3-replica Deployment and a tight curl loop",
               "Dump the node rules with `iptables-save` or `ipvsadm -Ln`",
               "Enable kube-proxy `-v=4` and look for skipped syncs",
               "Check `minSyncPeriod` in the KubeProxyConfiguration"],
              ["sig/network"],
              mode=["iptables", "ipvs", "nftables"],
              svc=["payments-api", "redis-master", "orders", "grpc-gateway"]),
            T("Server-side apply conflict on {field} after migrating from client-side apply",
              "Running `kubectl apply --server-side -f deploy.yaml` against a {ver} cluster fails with `Apply failed with 1 conflict: conflict with \"{manager}\": {field}`. "
              "The object was previously managed with client-side apply by the same pipeline, so ownership should have been transferred. "
              "Adding `--force-conflicts` works, but we do not want to force in CI.",
              ["Working as intended: `{manager}` also sets the field, so server-side apply correctly reports a conflict. Remove the field from the manifest or take ownership once with `--force-conflicts`.",
               "A bug in the client-side to server-side managedFields migration was fixed in {fix}; after upgrading, the conflict no longer appears."],
              ["Dump `metadata.managedFields` with `kubectl get -o yaml --show-managed-fields`",
               "Identify every manager that owns {field}",
               "Reproduce the CSA-to-SSA upgrade path on a kind cluster",
               "Document the ownership transfer in the SSA migration guide"],
              ["sig/api-machinery", "sig/cli"],
              field=["spec.replicas", "metadata.labels.app", "spec.template.spec.containers[name=app].image"],
              manager=["kube-controller-manager", "argocd-controller", "helm", "kubectl-client-side-apply"]),
            T("CronJob {job} creates duplicate Jobs after kube-controller-manager failover",
              "When the kube-controller-manager leader changes, the CronJob `{job}` in `{ns}` sometimes spawns two Jobs for the same schedule. "
              "Both Jobs carry the same `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation. "
              "We run {ver} with three control-plane nodes and `concurrencyPolicy: Forbid`.",
              ["The CronJob controller now checks for an existing Job with the same scheduled timestamp before creating one; the fix was backported to {fix}.",
               "Caused by several seconds of clock skew between control-plane nodes; fixing NTP stopped the duplicates, and a guard was added to the controller."],
              ["Reproduce by deleting the leader lease during a schedule tick",
               "Compare Job creation timestamps with leader election events",
               "Check node clock skew with `chronyc tracking`",
               "Add an integration test for failover at schedule time"],
              ["sig/apps"],
              job=["db-backup", "report-nightly", "cache-warmup", "cert-rotate"]),
        ],
        "feature": [
            T("kubectl debug: allow setting {what} on the ephemeral container",
              "When debugging `{app}` with `kubectl debug -it pod/{app}-0 --image=busybox`, the ephemeral container gets no {what}. "
              "In namespaces with strict LimitRanges or Pod Security admission this makes the debug container unusable. "
              "It would help to have a flag or a partial container spec to set {what} directly from the command line.",
              ["Covered by the `--custom` flag, which accepts a partial container spec in JSON or YAML and is beta from {next}.",
               "Accepted; implemented through `kubectl debug --custom=patch.yaml`, which merges a partial container spec into the generated ephemeral container."],
              ["Discuss in the SIG CLI meeting",
               "Check overlap with the debugging profiles KEP",
               "Agree on a partial-spec file instead of individual flags",
               "Land the flag behind an alpha gate"],
              ["sig/cli"],
              what=["resource limits", "securityContext capabilities", "environment variables from a ConfigMap"]),
            T("Expose {metric} from the kubelet",
              "There is currently no good way to alert on {mdesc}. "
              "We want a per-node-pool dashboard that shows it next to `kubelet_running_pods`. "
              "Please expose `{metric}` on the kubelet `/metrics` endpoint, ideally as a histogram labelled by runtime handler.",
              ["Accepted by SIG Node and added at ALPHA stability; it is available from {next}.",
               "Partly covered by `kubelet_pod_start_sli_duration_seconds`; the remaining histogram was added through the metrics stability process."],
              ["Bring to SIG Instrumentation for naming review",
               "Check the cardinality of the proposed labels",
               "Add the metric at ALPHA stability level",
               "Document it in the metrics reference"],
              ["sig/node", "sig/instrumentation"],
              metric__mdesc=[("kubelet_image_pull_duration_seconds", "how long image pulls take on each node"),
                             ("kubelet_volume_mount_duration_seconds", "slow CSI volume mounts"),
                             ("kubelet_pleg_relist_errors_total", "PLEG relist failures"),
                             ("kubelet_container_oom_events_total", "per-container OOM kills")]),
            T("kubectl drain: option to skip pods matching {sel}",
              "Our nodes run a few agent pods matching `{sel}` that are fine to leave behind during maintenance. "
              "Right now `kubectl drain --ignore-daemonsets --delete-emptydir-data` still tries to evict them and blocks on their PodDisruptionBudget. "
              "A `--skip-pods-selector` style flag would make our node rotation scripts much simpler.",
              ["Declined: kubectl drain already supports `--pod-selector` for the inverse case and SIG CLI prefers not to add more eviction filters. Running the agents as DaemonSets is the recommended approach.",
               "Accepted as a small enhancement to the drain helper; the exclusion selector is exposed in kubectl {next}."],
              ["Review the existing drain flags",
               "Discuss the use case in SIG CLI",
               "Suggest running the agents as a DaemonSet",
               "Decide on the flag name"],
              ["sig/cli"],
              sel=["app=node-problem-detector", "component=log-shipper", "team=infra,tier=agent"]),
            T("Support {feature} for StatefulSet rolling updates",
              "Rolling a 30-replica StatefulSet such as `{app}` one pod at a time takes more than an hour in our `{cluster}` cluster. "
              "We would like {feature} so updates go faster for applications that tolerate several pods down. "
              "Deployments already offer similar controls, so parity for StatefulSets would be great.",
              ["`maxUnavailable` for StatefulSets exists behind the `MaxUnavailableStatefulSet` feature gate; graduation is tracked in the KEP. Closed in favour of the KEP issue.",
               "Tracked in the existing StatefulSet KEP; SIG Apps asked for feedback there instead of a separate issue."],
              ["Link the existing KEP",
               "Ask the reporter to test the alpha feature gate",
               "Close as duplicate of the KEP tracking issue"],
              ["sig/apps"],
              feature=["maxUnavailable greater than one", "surge pods", "parallel pod updates within a partition"]),
        ],
        "question": [
            T("How to restrict a ServiceAccount to {verb} only {res} in one namespace?",
              "We need a CI ServiceAccount that can {verb} `{res}` in the `{ns}` namespace and nothing else. "
              "I created a Role and RoleBinding, but `kubectl auth can-i {verb} {res} --as=system:serviceaccount:{ns}:ci -n {ns}` still returns `no`. "
              "What is the correct way to scope this?",
              ["The Role used the wrong `apiGroups` entry for `{res}`; after correcting it the can-i check returns yes.",
               "The RoleBinding subject omitted the `namespace` field, so it bound a different identity. Adding it fixed the permission check."],
              ["Ask for the Role and RoleBinding YAML",
               "Run `kubectl auth can-i --list` as the ServiceAccount",
               "Point out the apiGroups and subject mismatch"],
              ["sig/auth"],
              verb=["patch", "create", "delete"], res=["deployments", "configmaps", "secrets", "jobs"]),
            T("What is the safe upgrade path from {prevminor} to {minor} with {tool}?",
              "We run a self-managed cluster provisioned with {tool}, currently at {prev}. "
              "The version skew policy says to upgrade the control plane first, but it is unclear how far kubelets may lag while we roll node pools. "
              "Is there an official checklist for getting to {ver}?",
              ["Upgrade the control plane one minor at a time, then the node pools; since 1.28 kubelets may lag the API server by up to three minors. The version skew policy and the {tool} upgrade guide are the references.",
               "Answered: go one minor at a time, check for removed APIs with a tool such as pluto before each hop, and upgrade node pools after the control plane."],
              ["Link the version skew policy",
               "Explain the control-plane-first order",
               "Recommend checking deprecated APIs before each hop"],
              ["sig/cluster-lifecycle"],
              tool=["kubeadm", "kOps", "Cluster API"],
              since="2023-08-15"),
            T("Why is my pod OOMKilled below its {mem} memory limit?",
              "A Java container in `{app}` with `limits.memory: {mem}` gets OOMKilled while the JVM heap and `container_memory_working_set_bytes` both stay well under the limit. "
              "The node runs cgroup v2 and {ver}. "
              "How is page cache and tmpfs usage accounted towards the limit?",
              ["The kernel enforces the limit, and an emptyDir with `medium: Memory` counts towards the container cgroup. Moving the scratch space to a disk-backed emptyDir stopped the OOM kills.",
               "The working set excludes inactive file cache but the cgroup limit does not, and off-heap buffers pushed the total over {mem}. Setting `-XX:MaxRAMPercentage` and reading `memory.stat` explained it."],
              ["Ask for `kubectl describe pod` output and the cgroup `memory.stat`",
               "Explain working set versus cgroup usage",
               "Check for memory-backed emptyDir volumes"],
              ["sig/node"],
              mem=["512Mi", "1Gi", "2Gi", "4Gi"]),
            T("Can a Service in one namespace route to pods in {ns2}?",
              "We want a Service in `{ns}` that fronts pods running in `{ns2}` without duplicating the Deployment. "
              "Selectors seem to match only pods in the same namespace. "
              "Is an ExternalName Service or a manually managed EndpointSlice the supported way to do this?",
              ["Selectors are namespace-scoped by design. Use an ExternalName Service pointing at `<svc>.{ns2}.svc.cluster.local`, or a selector-less Service with a manually managed EndpointSlice.",
               "Answered: keep the Service in `{ns2}` and reference it by its cluster DNS name; ExternalName is the usual indirection."],
              ["Explain that label selectors are namespace-scoped",
               "Show an ExternalName example",
               "Mention selector-less Services with EndpointSlices"],
              ["sig/network"],
              ns2=["shared-db", "legacy", "monitoring"]),
        ],
    },
)

REPOS["argoproj/argo-cd"] = dict(
    timeline=[("2022-10-24", "2.5"), ("2023-02-06", "2.6"), ("2023-05-01", "2.7"), ("2023-08-07", "2.8"),
              ("2023-11-06", "2.9"), ("2024-02-05", "2.10"), ("2024-05-06", "2.11"), ("2024-08-05", "2.12"),
              ("2024-11-04", "2.13"), ("2025-02-03", "2.14"), ("2025-05-06", "3.0")],
    prefix="v", numbers=(11900, 23500),
    type_labels={"bug": "bug", "feature": "enhancement", "question": "question"},
    extra_labels={"bug": ["triage/pending", "regression", "more-information-needed"],
                  "feature": ["triage/pending", "good first issue"],
                  "question": ["triage/pending"]},
    templates={
        "bug": [
            T("Sync wave {wave} resources applied before wave {w0} Job completes",
              "Our Application `{app}` has a schema migration Job annotated with `argocd.argoproj.io/sync-wave: \"{w0}\"` and the Deployment in wave `{wave}`. "
              "Since upgrading to {ver}, the Deployment is applied while the Job is still Running, so new pods start against the old schema. "
              "The same manifests were applied in the right order on {prev}.",
              ["Regression in the built-in Job health check, which reported Jobs as Healthy on creation; fixed in {fix}.",
               "A stray `argocd.argoproj.io/hook: Skip` annotation from a kustomize component excluded the Job from wave ordering. Removing it restored the expected order."],
              ["Reproduce with a two-wave Application on a kind cluster",
               "Check `argocd app get {app} --show-operation` for wave timings",
               "Inspect the Job health status reported by the controller",
               "Bisect between {prev} and {ver}",
               "Backport the health check fix"],
              ["component:sync"],
              w0=["-1", "0", "1"], wave=["2", "5", "10"]),
            T("Application {app} stuck OutOfSync because of {field} on {kind}",
              "After every sync `{app}` flips straight back to OutOfSync with a diff on `{field}` of a {kind}. "
              "The value is injected at runtime by another controller, so Argo CD never converges and keeps re-applying. "
              "We are on {ver} with automated sync and self-heal enabled.",
              ["Configure `ignoreDifferences` for `{field}` (or globally in `argocd-cm` under `resource.customizations.ignoreDifferences`) together with the `RespectIgnoreDifferences=true` sync option. No code change needed.",
               "Enabling server-side diff with `argocd.argoproj.io/compare-options: ServerSideDiff=true` removed the spurious diff; the default normalizer was also fixed in {fix}."],
              ["Run `argocd app diff {app}` to capture the exact diff",
               "Identify which controller mutates the field",
               "Test with `ignoreDifferences` and `RespectIgnoreDifferences=true`",
               "Compare with server-side diff enabled"],
              ["component:diff"],
              field__kind=[("webhooks[0].clientConfig.caBundle", "MutatingWebhookConfiguration"),
                           ("spec.replicas", "Deployment scaled by an HPA"),
                           ("spec.preserveUnknownFields", "CustomResourceDefinition"),
                           ("metadata.annotations.deployment.kubernetes.io/revision", "Deployment")]),
            T("argocd-repo-server OOMKilled while rendering {tool} manifests for a monorepo",
              "The repo-server pods restart with `OOMKilled` every few minutes once we have more than 200 Applications pointing at the same monorepo. "
              "Memory climbs to the 2Gi limit while generating {tool} manifests, and the UI shows `rpc error: code = Unavailable desc = connection refused`. "
              "Running {ver} with three repo-server replicas.",
              ["Set `reposerver.parallelism.limit` and the `argocd.argoproj.io/manifest-generate-paths` annotation so only affected apps regenerate on each commit; memory stabilised below 1Gi.",
               "A leak in the {tool} manifest cache was fixed in {fix}; memory usage is flat after upgrading."],
              ["Capture a heap profile from the repo-server pprof endpoint",
               "Count concurrent manifest generations in the metrics",
               "Recommend `reposerver.parallelism.limit`",
               "Add `manifest-generate-paths` annotations to the Applications"],
              ["component:repo-server"],
              tool=["Helm", "Kustomize", "Jsonnet"]),
            T("UI shows {err} when opening application details after SSO login",
              "Users logging in through Dex with our Okta connector can list applications, but opening `{app}` shows {err}. "
              "The argocd-server log contains `failed to verify token: token is expired` only seconds after login. "
              "This started with {ver}; the CLI via `argocd login --sso` still works.",
              ["Clock skew between the Dex and argocd-server nodes made fresh tokens look expired; syncing clocks fixed it and a small leeway was added in {fix}.",
               "The RBAC policy matched on `groups`, but the connector did not request the groups scope. Adding `requestedScopes: [openid, profile, email, groups]` to `oidc.config` fixed access."],
              ["Decode the ID token and compare `iat`/`exp` with server time",
               "Check `policy.csv` in `argocd-rbac-cm` for group matches",
               "Reproduce with Dex and a mock OIDC provider",
               "Add clock-skew leeway to token validation"],
              ["component:ui", "component:auth"],
              err=["`permission denied`", "a blank page", "`Request failed with status code 401`"]),
        ],
        "feature": [
            T("Add a sync timeout for Applications with long-running {what}",
              "Syncs for `{app}` sometimes hang forever waiting on {what}, and the only way out is `argocd app terminate-op {app}`. "
              "We would like a `syncPolicy` field that marks a sync as Failed after a configurable duration so that retries kick in. "
              "The existing controller flags only tune concurrency, not timeouts.",
              ["Accepted; a controller-wide sync timeout landed first, with a per-Application override planned for {next}.",
               "Duplicate of the existing sync timeout proposal; closed in favour of that issue."],
              ["Search for duplicate proposals",
               "Discuss the API shape in the contributors meeting",
               "Implement a controller-level timeout first"],
              ["component:sync"],
              what=["database migration Jobs", "Helm hooks", "CRD installs"]),
            T("Notifications: first-class {svc} service",
              "We route deployment notifications from argocd-notifications to {svc}. "
              "The generic webhook service works, but we hand-write the payload for every trigger. "
              "A native {svc} service in `argocd-notifications-cm` with templated messages would make `on-sync-failed` alerts much easier to maintain.",
              ["Accepted and implemented in notifications-engine; available in Argo CD {next}.",
               "Declined for core; the webhook service with a shared template covers this and the docs now contain a ready-made {svc} example."],
              ["Check notifications-engine for existing services",
               "Review the proposed configuration keys",
               "Ask for a PR against notifications-engine"],
              ["component:notifications"],
              svc=["Microsoft Teams workflows", "Google Chat threads", "PagerDuty Events v2", "Mattermost"]),
            T("Show {info} in the application resource tree",
              "When triaging incidents we constantly switch to `kubectl` to see {info} for each workload of `{app}`. "
              "The resource tree already displays health and sync status per node. "
              "Showing {info} as a badge or in the node tooltip would save a lot of clicks.",
              ["Implemented as an optional resource tree badge controlled from the UI settings; shipped in {next}.",
               "Partly available through extensions; maintainers suggested a UI extension instead of core changes."],
              ["Mock up the UI change",
               "Check the performance impact on large trees",
               "Implement behind a UI setting"],
              ["component:ui"],
              info=["the container image tag", "the Helm chart version", "the last sync author"]),
            T("Support {auth} for Helm OCI repositories",
              "We pull Helm charts as OCI artifacts from {registry}. "
              "Today a CronJob refreshes a short-lived token in the repository secret every few hours because registry tokens expire. "
              "Native {auth} in the repo-server would remove that moving part.",
              ["Accepted; workload-identity based registry credentials were added to the repo-server and are available from {next}.",
               "Tracked in the broader cloud credentials proposal; the token-refresher workaround is documented until then."],
              ["Collect requirements for each cloud provider",
               "Design a credential provider interface for the repo-server",
               "Link the umbrella proposal"],
              ["component:repo-server", "helm"],
              auth__registry=[("IRSA authentication", "Amazon ECR"), ("workload identity", "Azure Container Registry"),
                              ("GKE Workload Identity", "Google Artifact Registry")]),
        ],
        "question": [
            T("How to deploy {app} to {n} clusters with one ApplicationSet and per-cluster values?",
              "Our clusters are registered with labels such as `env=prod` and `region=eu-west-1`, and we want one ApplicationSet that deploys `{app}` everywhere with region-specific Helm values. "
              "Should I use the cluster generator with `values`, or a matrix of the cluster and git generators? "
              "What is the recommended layout for the values files?",
              ["Use a matrix generator combining the cluster generator with a git files generator, and reference values files such as `values-{{.metadata.labels.region}}.yaml` with `ignoreMissingValueFiles: true`.",
               "Answered: the cluster generator's `values` field is enough for a few keys; for full values files use the matrix pattern from the ApplicationSet docs."],
              ["Share the matrix generator example from the docs",
               "Explain cluster label selectors",
               "Suggest `ignoreMissingValueFiles` for optional files"],
              ["component:applicationset"],
              n=["8", "20", "50"]),
            T("How can CI wait until {app} is Healthy after pushing a new image tag?",
              "Our {ci} pipeline updates an image tag in the GitOps repository and then needs to block until the rollout finishes. "
              "`argocd app wait {app} --health` returns immediately because the app is still Healthy on the previous revision. "
              "What is the right sequence of commands?",
              ["Refresh first and wait for the new revision: `argocd app get {app} --refresh`, then `argocd app wait {app} --sync --health --timeout 600`. Waiting on `--operation` ensures the new sync has started.",
               "Trigger the sync explicitly with `argocd app sync {app} --revision <sha>`, which blocks until the operation completes, followed by `argocd app wait --health`."],
              ["Explain the refresh and reconcile loop",
               "Share a CI snippet using `argocd app wait`"],
              ["component:cli"],
              ci=["GitHub Actions", "GitLab CI", "Tekton", "Jenkins"]),
            T("{a} or {b} to keep PersistentVolumeClaims?",
              "We want to avoid deleting PersistentVolumeClaims when they are removed from Git, but still prune everything else in `{app}`. "
              "The docs mention both {a} and {b}, and I am not sure which applies at the resource level. "
              "Which one should we use?",
              ["Annotate the PVCs with `argocd.argoproj.io/sync-options: Prune=false`; `PruneLast` only changes ordering. Linked the sync options page.",
               "Use the resource-level `Prune=false` (or `Delete=false` to also survive Application deletion); the Application-level option applies to everything."],
              ["Link the sync options documentation",
               "Explain resource-level versus app-level options"],
              ["component:sync"],
              a__b=[("`Prune=false`", "`PruneLast=true`"), ("`prune: true` in syncPolicy", "`Delete=false`"),
                    ("`PrunePropagationPolicy=foreground`", "`Prune=confirm`")]),
            T("How do I disable the local admin account when installing with {method}?",
              "After bootstrapping Argo CD {ver} with {method} we switched to SSO and want to disable the local `admin` account entirely. "
              "Deleting `argocd-initial-admin-secret` does not seem to be enough. "
              "What is the supported way?",
              ["Set `admin.enabled: \"false\"` in `argocd-cm` (chart value `configs.cm.admin.enabled: false`) and delete the initial admin secret; logins as admin are then rejected.",
               "Answered: disable the account through `argocd-cm` and make sure at least one SSO group has `role:admin` in `argocd-rbac-cm` before doing so."],
              ["Point to the user management docs",
               "Show the `argocd-cm` snippet"],
              ["component:auth"],
              method=["the Helm chart", "Kustomize", "the install manifests"]),
        ],
    },
)

REPOS["fluxcd/flux2"] = dict(
    timeline=[("2022-12-21", "0.38"), ("2023-02-01", "0.40"), ("2023-03-03", "0.41"), ("2023-07-05", "2.0"),
              ("2023-08-24", "2.1"), ("2023-12-12", "2.2"), ("2024-05-06", "2.3"), ("2024-09-30", "2.4"),
              ("2025-02-20", "2.5"), ("2025-05-29", "2.6")],
    prefix="v", numbers=(3460, 5420),
    type_labels={"bug": "bug", "feature": "enhancement", "question": "question"},
    extra_labels={"bug": ["blocked/needs-info", "area/UX"], "feature": ["area/RFC", "good first issue"],
                  "question": ["area/docs"]},
    templates={
        "bug": [
            T("Kustomization {name} stuck in Reconciliation in progress after upgrade to {ver}",
              "After upgrading to Flux {ver}, `flux get kustomizations` shows `{name}` as Unknown with `Reconciliation in progress` for over an hour. "
              "kustomize-controller logs `health check failed after 5m0s: timeout waiting for: [Deployment/{ns}/{app} status: 'InProgress']`. "
              "The Deployment itself is fully rolled out.",
              ["A stale `Progressing` condition from a previous failed rollout made kstatus report InProgress; the kstatus update in Flux {fix} handles it.",
               "The health check waited on a Deployment whose pods could not mount a missing Secret; the status message now surfaces the underlying condition."],
              ["Run `flux events --for Kustomization/{name}`",
               "Inspect the Deployment conditions with `kubectl get deploy -o yaml`",
               "Reproduce with kstatus directly",
               "Bump kstatus in kustomize-controller"],
              ["area/kustomization"],
              name=["apps", "infrastructure", "tenants", "monitoring-stack"]),
            T("HelmRelease {app} upgrade fails: {err}",
              "The HelmRelease `{app}` in `{ns}` fails on every retry since we bumped the chart version. "
              "helm-controller logs `Helm upgrade failed for release {ns}/{app}: {err}`. "
              "We run Flux {ver} with `upgrade.remediation.retries: 3`.",
              ["Root cause: {cause}. After fixing it and running `flux reconcile hr {app} -n {ns} --force`, the release upgraded cleanly.",
               "Root cause: {cause}. helm-controller now detects this state and recovers automatically from Flux {fix}."],
              ["Check `helm history {app} -n {ns}`",
               "Read helm-controller logs around the failed upgrade",
               "Suspend the HelmRelease and repair the release manually",
               "Resume with `flux resume hr {app}`"],
              ["area/helm"],
              err__cause=[("another operation (install/upgrade/rollback) is in progress",
                           "the release was left in `pending-upgrade` after helm-controller was OOMKilled mid-upgrade"),
                          ("context deadline exceeded",
                           "a post-upgrade hook Job waited on an image that could not be pulled, exceeding the 5m timeout"),
                          ("rendered manifests contain a resource that already exists",
                           "a ConfigMap had been created by hand without Helm ownership metadata")]),
            T("GitRepository fails with {err} when using {auth}",
              "source-controller reports {err} for the `flux-system` GitRepository right after we switched to {auth}. "
              "`flux get sources git` shows the last fetched revision is several days old. "
              "We are on Flux {ver}.",
              ["The Secret referenced by `secretRef` was missing the keys expected for {auth}; regenerating it with `flux create secret git` fixed the fetch.",
               "Fixed in source-controller shipped with Flux {fix}; the error message now names the missing Secret key."],
              ["Inspect the referenced Secret keys",
               "Reproduce with `flux create source git --export`",
               "Check the known_hosts / CA data",
               "Improve the error message"],
              ["area/git"],
              err__auth=[("`ssh: handshake failed: knownhosts: key mismatch`", "SSH deploy keys"),
                         ("`authentication required`", "a GitHub App"),
                         ("`x509: certificate signed by unknown authority`", "a self-hosted GitLab behind a private CA")]),
            T("image-reflector-controller does not see new tags in {reg}",
              "The ImagePolicy for `{app}` with `semver: {range: '>=1.0.0'}` stays on the old tag although newer tags were pushed to {reg} hours ago. "
              "`flux get image repository {app}` shows the last scan time updating but reports a stale tag count. "
              "The ImageRepository uses `provider: generic` and a docker-registry Secret.",
              ["The registry paginates the tag list and the controller only read the first page; fixed in image-reflector-controller shipped with Flux {fix}.",
               "The docker-registry Secret held an expired token; switching the ImageRepository to the native cloud `provider` fixed scanning."],
              ["Compare tags from `crane ls` with the controller's database",
               "Check the ImageRepository `exclusionList`",
               "Enable debug logging on image-reflector-controller"],
              ["area/image-automation"],
              reg=["Amazon ECR", "GHCR", "Harbor", "Google Artifact Registry"]),
        ],
        "feature": [
            T("Support {provider} in flux bootstrap",
              "We host our fleet repository on {provider} and want the same one-command experience as `flux bootstrap github`. "
              "Right now we run `flux bootstrap git` with a manually created token and deploy key. "
              "A dedicated bootstrap subcommand that creates the repository and deploy key would simplify onboarding.",
              ["Implemented; `flux bootstrap` gained a dedicated subcommand in Flux {next}.",
               "Declined for now: `flux bootstrap git` covers the flow and provider-specific APIs are out of scope. The docs now include a guide for {provider}."],
              ["Check go-git-providers for {provider} support",
               "Discuss in the Flux dev meeting",
               "Write the bootstrap guide"],
              ["area/bootstrap"],
              provider=["Gitea", "Azure DevOps with workload identity", "Bitbucket Data Center"]),
            T("Kustomization: {ftitle}",
              "For `{name}` in our `{cluster}` fleet we would like to {feature}. "
              "Today we emulate it with a CronJob that toggles `spec.suspend`, which is fragile and invisible in `flux get`. "
              "A native field on the Kustomization API would be much cleaner.",
              ["Discussed in an RFC; maintainers prefer a separate scheduling controller and the RFC was merged as provisional.",
               "Accepted; shipped in the Kustomization API with Flux {next}."],
              ["Ask for an RFC",
               "Discuss in the Flux dev meeting",
               "Prototype in kustomize-controller"],
              ["area/kustomization", "area/RFC"],
              name=["apps", "infrastructure", "tenants"],
              ftitle__feature=[("allow pausing reconciliation outside a maintenance window", "pause reconciliation outside a maintenance window"),
                               ("support a per-resource apply strategy", "choose the apply strategy per resource"),
                               ("allow dependsOn across namespaces by label selector", "declare dependsOn across namespaces with a label selector")]),
            T("Verify OCI artifacts signed with {tool}",
              "We publish our manifests as OCI artifacts with `flux push artifact` and sign them with {tool}. "
              "OCIRepository verification currently does not cover this signing setup. "
              "Supporting {tool} in `spec.verify` would let us enforce provenance before anything reaches the cluster.",
              ["Added to OCIRepository `spec.verify.provider` in Flux {next}.",
               "Accepted and implemented in source-controller; documented in the OCI cheatsheet."],
              ["Review the verification interface in source-controller",
               "Add an e2e test with a signed artifact",
               "Document the setup"],
              ["area/oci", "area/security"],
              tool=["Notation", "cosign keyless", "cosign with a KMS key"]),
            T("notification-controller: add {provider} provider",
              "We want Flux alerts for failed HelmReleases in `{ns}` to go to {provider}. "
              "The generic webhook provider cannot produce the payload format {provider} expects. "
              "A dedicated Provider type would make this a one-line configuration.",
              ["Accepted; the provider was added in notification-controller shipped with Flux {next}.",
               "Use the `generic-hmac` provider with a small relay for now; a native provider is tracked in the roadmap."],
              ["Check the provider API docs",
               "Ask the reporter to contribute the provider",
               "Review and merge the PR"],
              ["area/alerting"],
              provider=["Microsoft Teams workflows", "Zulip", "Opsgenie", "Datadog events"]),
        ],
        "question": [
            T("How to structure a repository for {n} clusters with {tool}?",
              "We are moving {n} clusters to Flux and want a single fleet repository using {tool}. "
              "Should each cluster have its own directory under `clusters/` with shared `infrastructure` and `apps` bases? "
              "How do you handle per-cluster differences without copying everything?",
              ["Follow the flux2-kustomize-helm-example layout: per-cluster entry points under `clusters/`, shared bases, and overlays; use `postBuild.substituteFrom` for small per-cluster values.",
               "Answered with the repository structure guide; per-cluster variables via `postBuild.substitute` cover most differences."],
              ["Link the repository structure guide",
               "Show a `postBuild.substituteFrom` example"],
              ["area/docs"],
              n=["3", "12", "40"], tool=["Kustomize overlays", "HelmRelease values", "OCI artifacts"]),
            T("How to inject secrets from {src} into HelmRelease values?",
              "Our HelmRelease for `{app}` needs a database password in its values. "
              "We keep secrets in {src} and do not want them in plain text in Git. "
              "What is the recommended way to wire this up with Flux {ver}?",
              ["Create a Kubernetes Secret from {src} and reference it with `spec.valuesFrom` (kind `Secret`, `valuesKey`); Flux merges it into the values at reconcile time.",
               "Answered: decrypt or sync into a Secret first, then use `valuesFrom` with `targetPath` for single keys."],
              ["Point to the `valuesFrom` docs",
               "Show a `targetPath` example"],
              ["area/helm"],
              src=["SOPS-encrypted files", "External Secrets Operator", "HashiCorp Vault"]),
            T("How do I make Flux reconcile {obj} right after a git push?",
              "Reconciliation currently waits for the `interval` of {obj}, which is 10 minutes in our setup. "
              "Lowering the interval for everything feels wasteful. "
              "Is there a push-based option?",
              ["Use a notification-controller `Receiver` with a webhook from your Git host; it triggers the source immediately and dependent objects follow. `flux reconcile` works for manual runs.",
               "Answered: configure a `Receiver` of type `github`/`gitlab` and expose it through an Ingress."],
              ["Link the webhook receiver guide",
               "Explain the source-to-dependents propagation"],
              ["area/git"],
              obj=["a Kustomization", "a HelmRelease", "the flux-system GitRepository"]),
            T("Can Flux manage resources in {target}?",
              "We want the Flux instance in our management cluster to apply manifests into {target}. "
              "Running a separate Flux installation per target is a lot of overhead. "
              "Is this supported with Flux {ver}?",
              ["Yes: set `spec.kubeConfig.secretRef` on the Kustomization or HelmRelease to a Secret containing the kubeconfig of {target}.",
               "Supported via `spec.kubeConfig`; for Cluster API the generated `<cluster>-kubeconfig` Secret can be referenced directly."],
              ["Point to the remote clusters docs",
               "Explain kubeConfig Secret requirements"],
              ["area/multi-tenancy"],
              target=["a remote cluster", "a vCluster", "a Cluster API workload cluster"]),
        ],
    },
)

REPOS["hashicorp/terraform"] = dict(
    timeline=[("2022-09-21", "1.3"), ("2023-03-08", "1.4"), ("2023-06-12", "1.5"), ("2023-10-04", "1.6"),
              ("2024-01-17", "1.7"), ("2024-04-10", "1.8"), ("2024-06-26", "1.9"), ("2024-11-27", "1.10"),
              ("2025-02-27", "1.11"), ("2025-05-14", "1.12")],
    prefix="", numbers=(32400, 37250),
    type_labels={"bug": "bug", "feature": "enhancement", "question": "question"},
    extra_labels={"bug": ["new", "waiting-response", "confirmed"], "feature": ["new", "config"],
                  "question": ["waiting-response"]},
    templates={
        "bug": [
            T("terraform plan panics when using {feature}",
              "`terraform plan` on {ver} crashes with `panic: runtime error: invalid memory address or nil pointer dereference` as soon as the configuration contains {feature}. "
              "The stack trace points into the graph walker during `plan`. "
              "The same configuration plans fine without that block.",
              ["Fixed in {fix}; the planner now handles {feature} for resources that are not yet in state.",
               "Confirmed and fixed in {fix}. The crash only happened when the referenced module used `count`."],
              ["Reproduce with a minimal configuration on {ver}",
               "Collect `TF_LOG=trace` output and the crash log",
               "Bisect to the introducing commit",
               "Add a regression test to the plan tests"],
              ["core"],
              feature=["`moved` blocks across module boundaries", "`import` blocks with `for_each`", "`removed` blocks", "`check` blocks with nested data sources"]),
            T("S3 backend lock not released after {sig}",
              "After {sig}, every subsequent run fails with `Error acquiring the state lock: ConditionalCheckFailedException` for the DynamoDB lock table. "
              "The lock info shows the operation `OperationTypeApply` from our runner. "
              "We use Terraform {ver} with the S3 backend and `dynamodb_table` locking.",
              ["Terraform releases the lock on SIGINT/SIGTERM, but the runner sent SIGKILL after its timeout. Use `terraform force-unlock <ID>` once, and configure the runner to send SIGTERM with a grace period.",
               "A bug where the lock was not released when the state upload failed was fixed in {fix}."],
              ["Ask how the process was terminated",
               "Reproduce by killing `terraform apply` with different signals",
               "Check lock release on state persistence errors"],
              ["backend/s3"],
              sig=["pressing Ctrl+C during apply", "a CI runner timeout", "a network interruption during state upload"]),
            T("Lock file checksum mismatch for the {prov} provider on {os}",
              "`terraform init` fails with `the cached package for registry.terraform.io/hashicorp/{prov} does not match any of the checksums recorded in the dependency lock file` on {os} machines. "
              "The `.terraform.lock.hcl` was generated on linux_amd64 in CI. "
              "We are on Terraform {ver}.",
              ["The lock file only had hashes for linux_amd64; run `terraform providers lock -platform=linux_amd64 -platform={os}` and commit the result.",
               "Expected behaviour, but the error message was improved in {fix} to suggest `terraform providers lock`."],
              ["Inspect the hashes in `.terraform.lock.hcl`",
               "Explain `h1:` versus `zh:` hashes",
               "Suggest `terraform providers lock` with multiple platforms"],
              ["cli"],
              prov=["aws", "google", "azurerm", "kubernetes"], os=["darwin_arm64", "linux_arm64", "windows_amd64"]),
            T("Sensitive value of {var} shown in plan output on {ver}",
              "After upgrading to Terraform {ver}, `terraform plan` prints the raw value of `{var}` inside a `templatefile()` result, although the variable is declared with `sensitive = true`. "
              "On {prev} the same attribute was rendered as `(sensitive value)`. "
              "This leaks credentials into our CI logs.",
              ["Regression in sensitivity propagation through `templatefile` results; fixed in {fix}.",
               "The value passed through `nonsensitive()` in a child module, which removes the mark by design. The module was fixed and the docs clarified."],
              ["Reproduce with a minimal module",
               "Check for `nonsensitive()` calls in the module tree",
               "Bisect between {prev} and {ver}",
               "Backport the fix"],
              ["core", "security"],
              var=["var.db_password", "module.rds.master_password", "local.api_token"]),
        ],
        "feature": [
            T("Allow variables in {block}",
              "We manage dozens of environments and want to parameterise {block} instead of generating files with a wrapper script. "
              "Today anything that looks like `{expr}` there fails with `Variables not allowed`. "
              "Allowing input variables or locals here would remove a lot of tooling around Terraform.",
              ["Kept open as the canonical tracking issue; early evaluation of static variables in this position is being designed for a future release.",
               "Not planned in this form; use partial configuration with `-backend-config` files or a wrapper, as documented."],
              ["Link the canonical tracking issue",
               "Explain the evaluation order constraints",
               "Close newer duplicates"],
              ["config"],
              block__expr=[("the `backend` block", "bucket = var.state_bucket"),
                           ("module `source` addresses", "source = var.module_source"),
                           ("`required_providers` version constraints", "version = var.aws_version")]),
            T("Support for_each on {what}",
              "We deploy the same stack into {n} regions and need {what} to be generated dynamically. "
              "Writing one block per region by hand is error-prone and easy to forget when adding a region. "
              "`for_each` here would mirror what resources and modules already support.",
              ["Provider `for_each` was accepted as part of the provider iteration work and is targeted at {next}.",
               "Tracked in the existing meta-argument issue; closed as duplicate."],
              ["Search for duplicate requests",
               "Discuss design constraints with the core team",
               "Link the tracking issue"],
              ["config"],
              what=["provider configurations", "`moved` blocks", "`import` targets in child modules"],
              n=["4", "9", "14"]),
            T("Add a plan option to fail when {cond}",
              "Our CI runs `terraform plan -detailed-exitcode`, which distinguishes changes from no changes but not the kind of change. "
              "We would like a flag that makes the plan exit non-zero when {cond}. "
              "Parsing `terraform show -json` works but every team reimplements it.",
              ["Declined for core; the recommended approach is a policy check on `terraform show -json` output, and a documented example was added.",
               "Accepted as a smaller enhancement; the JSON plan now includes a summary of actions that makes such checks trivial."],
              ["Discuss the flag design",
               "Suggest policy tooling on the JSON plan",
               "Document a jq example"],
              ["cli"],
              cond=["any resource would be destroyed", "drift is detected", "a deprecated attribute is used"]),
            T("State storage: support {storage}",
              "We would like to store state in {storage}. "
              "Our current setup requires an extra service just for locking, which increases cost and operational overhead. "
              "Native support would make small setups much simpler.",
              ["{answer}"],
              ["Review the backend policy",
               "Check the S3 conditional write support",
               "Link the relevant docs"],
              ["backend/s3"],
              storage__answer=[("S3 with native locking instead of DynamoDB",
                                "Implemented as `use_lockfile = true` in the s3 backend using S3 conditional writes; experimental in 1.10 and generally available from 1.11."),
                               ("Cloudflare R2 through the s3 backend with locking",
                                "The s3 backend works with R2 via endpoint overrides and `use_lockfile`; no separate backend will be added."),
                               ("OCI Object Storage",
                                "New backends are no longer accepted in core; use the S3-compatible API of the object store with the s3 backend.")]),
        ],
        "question": [
            T("How to move resources between state files with {method}?",
              "We are splitting a monolithic root module into `network` and `apps` stacks and need to move about {n} resources without recreating them. "
              "Should we use {method} for this, and how do we avoid a window where both stacks manage the same resource? "
              "Both stacks use the S3 backend with Terraform {ver}.",
              ["Use `import` blocks in the new stack and `removed` blocks with `lifecycle { destroy = false }` in the old one, applying the old stack first.",
               "For a one-off move `terraform state mv -state-out` still works, but config-driven `import`/`removed` blocks are reviewable in a plan."],
              ["Explain config-driven import and removed blocks",
               "Show the apply order",
               "Link the refactoring docs"],
              ["core"],
              method=["`terraform state mv`", "`moved` blocks", "`import` and `removed` blocks"], n=["40", "120", "300"]),
            T("Is it safe to force-unlock state lock {lockid}?",
              "`terraform apply` fails with `Error acquiring the state lock` and `Lock Info: ID: {lockid}, Operation: OperationTypePlan, Who: runner@{host}`. "
              "The CI job that held the lock was cancelled an hour ago. "
              "Is it safe to run `terraform force-unlock`, and can the state be corrupted?",
              ["If no Terraform process is still running against that state, `terraform force-unlock {lockid}` is safe; it only removes the lock entry and does not modify state.",
               "Answered: verify nothing is running, then force-unlock. Enabling S3 versioning gives a way back if a state write was interrupted."],
              ["Explain what the lock protects",
               "Describe how to verify no process is running",
               "Recommend bucket versioning"],
              ["backend/s3"],
              lockid=["4c2a1d9e-7f3b-4b8e-9a61-0d5c3e2f8a17", "b81f0c3a-2e44-4d19-8c7e-5a9f6e1d2c30", "e0d7a9c2-51f6-4a3b-b8d4-c92e1f07a6b5"],
              host=["ci-7f9c", "gha-runner-12", "atlantis-0"]),
            T("How do I read outputs from another stack stored in {backend}?",
              "Our `apps` stack needs the VPC ID and subnet IDs created by the `network` stack, which stores state in {backend}. "
              "Should we use `terraform_remote_state`, or is there a better pattern that does not require read access to the whole state? "
              "We are on Terraform {ver}.",
              ["`terraform_remote_state` works but grants access to the entire state; publishing values to a parameter store and reading them with a data source is the recommended decoupled pattern.",
               "Answered with both options: `terraform_remote_state` for simplicity, or data sources looking up tagged resources directly."],
              ["Explain `terraform_remote_state` access implications",
               "Suggest data sources or a parameter store"],
              ["core"],
              backend=["S3", "GCS", "azurerm", "an HCP Terraform workspace"]),
            T("Why does plan show changes to {attr} on every run?",
              "Every `terraform plan` shows an in-place update for {attr} of `{res}`, even immediately after an apply. "
              "The values look identical apart from ordering or whitespace. "
              "Is this a Terraform issue or something in the provider?",
              ["This is provider normalisation, not core behaviour: the API returns the value in a different form. Normalise the input (for example with `jsonencode`) or use `lifecycle { ignore_changes = [...] }` and report it to the provider.",
               "Answered: perpetual diffs come from the provider; the issue was transferred to the provider repository."],
              ["Ask for the plan output",
               "Explain provider versus core responsibilities",
               "Transfer to the provider repository"],
              ["core"],
              attr=["`tags_all`", "a JSON policy document", "`user_data`"],
              res=["aws_iam_policy.app", "aws_instance.bastion", "aws_s3_bucket.logs"]),
        ],
    },
)

REPOS["hashicorp/terraform-provider-aws"] = dict(
    interp=[("2023-01-05", 4, 49), ("2023-05-18", 4, 67), ("2023-05-25", 5, 0), ("2023-12-14", 5, 31),
            ("2024-12-19", 5, 82), ("2025-06-12", 5, 100), ("2025-06-18", 6, 0)],
    prefix="v", numbers=(28700, 43200),
    type_labels={"bug": "bug", "feature": "enhancement", "question": "question"},
    extra_labels={"bug": ["needs-triage", "regression", "prioritized"], "feature": ["needs-triage", "upstream"],
                  "question": ["needs-triage"]},
    templates={
        "bug": [
            T("aws_s3_bucket_lifecycle_configuration: perpetual diff on {field}",
              "Every plan with provider {ver} shows `aws_s3_bucket_lifecycle_configuration.{name}` updating {field}, even right after apply. "
              "The rule in the console matches our configuration exactly. "
              "This started after upgrading from {prev}.",
              ["The API omits an empty filter in its response, and the provider did not normalise it; fixed in {fix}.",
               "Fixed in {fix} by treating the API default as equivalent to an unset value."],
              ["Reproduce with the acceptance test configuration",
               "Compare the API response with `aws s3api get-bucket-lifecycle-configuration`",
               "Add a normalisation step in the read function",
               "Add an acceptance test for the empty case"],
              ["service/s3"],
              field=["`rule.filter` with an empty prefix", "`transition_default_minimum_object_size`", "`noncurrent_version_expiration`"],
              name=["logs", "artifacts", "backups"]),
            T("aws_eks_node_group update fails with PodEvictionFailure when changing {attr}",
              "Changing `{attr}` on `aws_eks_node_group.{ng}` fails after about 60 minutes with `unexpected state 'Failed', wanted target 'Successful'. last error: PodEvictionFailure: Reached max retries while trying to evict pods from nodes`. "
              "The cluster runs Kubernetes {k8s} and we use provider {ver}. "
              "The update succeeds when we drain the nodes manually first.",
              ["EKS cannot evict pods that violate a PodDisruptionBudget; set `update_config { max_unavailable = 1 }` and fix the PDB, or use `force_update_version = true`.",
               "Not a provider bug: the failure comes from the EKS managed node group update. The docs for `force_update_version` were improved."],
              ["Check PodDisruptionBudgets in the cluster",
               "Look at the node group update in the EKS console",
               "Explain `force_update_version`"],
              ["service/eks"],
              attr=["launch_template.version", "ami_type", "release_version"], ng=["default", "workers", "gpu"]),
            T("Mixing inline rules and {res} causes {sym}",
              "Our `aws_security_group.{sg}` has inline `ingress` blocks and we also add rules with `{res}` from another module. "
              "Each apply causes {sym}. "
              "We are on provider {ver}.",
              ["Mixing inline rules with standalone rule resources is unsupported and documented as such; move all rules to `aws_vpc_security_group_ingress_rule` resources.",
               "Working as documented; a validation warning was added in {fix} when both styles are detected."],
              ["Review the security group docs",
               "Reproduce with both rule styles",
               "Point to the migration guide"],
              ["service/ec2"],
              res=["aws_security_group_rule", "aws_vpc_security_group_ingress_rule"],
              sym=["rules flapping between plans", "`InvalidPermission.Duplicate` errors"],
              sg=["app", "db", "alb"]),
            T("aws_rds_cluster plans replacement for engine upgrade from {from_v} to {to_v}",
              "Changing `engine_version` on `aws_rds_cluster.main` from {from_v} to {to_v} shows `forces replacement` in the plan. "
              "We expected an in-place major version upgrade as supported by RDS. "
              "Provider {ver}, `allow_major_version_upgrade = true` is already set.",
              ["The plan also changed `engine` because of a typo, which does force replacement; with only `engine_version` and a matching `db_cluster_parameter_group_name` the upgrade is in place.",
               "Confirmed a bug in the diff customisation for global clusters; fixed in {fix}."],
              ["Ask for the full plan output",
               "Reproduce with an acceptance test",
               "Check the CustomizeDiff logic"],
              ["service/rds"],
              from_v__to_v=[("aurora-postgresql 14.9", "15.4"), ("aurora-mysql 5.7", "3.04.0"), ("aurora-postgresql 13.12", "14.10")]),
        ],
        "feature": [
            T("New resource: aws_{rname}",
              "AWS has made {svc} generally available, and we currently manage them with the CLI in a `null_resource`. "
              "A native `aws_{rname}` resource with import support would let us manage them alongside the rest of our infrastructure. "
              "The SDK v2 already contains the required API operations.",
              ["Implemented and released in {next}.",
               "Accepted; the resource was added with import support in {next}."],
              ["Check AWS SDK for Go v2 support",
               "Label as new-resource",
               "Review the contributed resource",
               "Run acceptance tests"],
              ["new-resource"],
              since="2023-12-01",
              rname__svc=[("bedrockagent_knowledge_base", "Bedrock knowledge bases"),
                          ("eks_access_entry", "EKS access entries"),
                          ("eks_pod_identity_association", "EKS Pod Identity associations"),
                          ("cloudfrontkeyvaluestore_key", "CloudFront KeyValueStore keys")]),
            T("aws_eks_cluster: support {arg}",
              "The EKS API supports {arg}, but `aws_eks_cluster` does not expose it yet. "
              "We need it for our `{cluster}` cluster and currently patch the setting with `aws eks update-cluster-config` after apply. "
              "Please add the argument to the resource and data source.",
              ["Added in {next}.",
               "Implemented; the argument is available in {next} with import support."],
              ["Check the EKS API reference",
               "Review the PR",
               "Run EKS acceptance tests"],
              ["service/eks"],
              since="2024-06-01",
              arg=["`bootstrap_self_managed_addons`", "`upgrade_policy.support_type`", "`compute_config` for EKS Auto Mode", "`zonal_shift_config`"]),
            T("Propagate default_tags to {target}",
              "We rely on provider-level `default_tags` for cost allocation, but {target} do not receive them. "
              "Our finance reports show untagged spend for the `{cluster}` account. "
              "It would be great if default tags were propagated there as well.",
              ["Not possible for all services because the tags are set by AWS itself; the docs now list which resources support propagation.",
               "Accepted; tag propagation was added in {next} behind a new argument."],
              ["Check which APIs support tags on creation",
               "Discuss the behaviour change",
               "Document the limitation"],
              ["tags"],
              target=["instances launched by `aws_autoscaling_group`", "EC2 instances of `aws_eks_node_group`", "ENIs created by `aws_lb`"]),
            T("Provider assume_role: support {x}",
              "Our landing zone requires {x} when Terraform assumes roles across accounts. "
              "Today we wrap Terraform with a shell script that calls `aws sts assume-role` first. "
              "Supporting this directly in the provider `assume_role` block would remove the wrapper.",
              ["Implemented in {next}.",
               "Accepted; the provider now supports this in `assume_role` starting with {next}."],
              ["Check aws-sdk-go-base support",
               "Review the PR",
               "Document the new argument"],
              ["provider"],
              x=["chaining multiple roles", "`source_identity`", "session tags"]),
        ],
        "question": [
            T("How do I import an existing {res} with an import block?",
              "We want to bring existing `{res}` resources under Terraform using `import` blocks. "
              "I am unsure what ID format the resource expects, and `terraform plan -generate-config-out=generated.tf` fails with `Cannot import non-existent remote object`. "
              "What should the `id` look like?",
              ["The import ID for `{res}` is {idfmt}; with the correct format, config generation works.",
               "Answered: see the Import section of the resource documentation; the ID is {idfmt}."],
              ["Point to the resource documentation Import section",
               "Show a working import block"],
              ["documentation"],
              res__idfmt=[("aws_s3_bucket", "the bucket name"), ("aws_iam_role_policy_attachment", "`role-name/policy-arn`"),
                          ("aws_route53_record", "`ZONEID_name_TYPE`"), ("aws_security_group_rule", "a composite of group ID, type, protocol and ports")]),
            T("How do I manage {a} and {b} from different AWS accounts?",
              "In our setup {a} lives in the shared networking account while {b} is in the workload account. "
              "How do I create both in one configuration with provider {ver}? "
              "Is there a way to pass the right provider into modules?",
              ["Declare two `aws` provider blocks with aliases and `assume_role`, and pass them to modules with `providers = { aws = aws.network }`; modules declare `configuration_aliases` if they need both.",
               "Answered with provider aliases and the `configuration_aliases` pattern."],
              ["Explain provider aliases",
               "Show module `providers` mapping"],
              ["provider"],
              a__b=[("the Route53 hosted zone", "the ACM certificate"), ("the Transit Gateway", "the VPC attachment"),
                    ("the S3 state bucket", "the application resources")]),
            T("Why does aws_instance want to replace when {x}?",
              "Our plan for `aws_instance.{name}` shows `forces replacement` whenever {x}. "
              "We want to keep the instance and only update it in place, or ignore the change. "
              "Is this expected with provider {ver}?",
              ["Yes, that argument forces replacement. Use `lifecycle { ignore_changes = [ami] }` when the AMI comes from a `most_recent` data source, or `user_data_replace_on_change = false` for user data.",
               "Answered: changes to that argument require a new instance by design; use `ignore_changes` if you want to skip them."],
              ["Explain ForceNew arguments",
               "Show an `ignore_changes` example"],
              ["service/ec2"],
              x=["the `most_recent` AMI data source returns a newer image", "`user_data` changes", "we change the `subnet_id`"],
              name=["bastion", "runner", "nat"]),
            T("Which IAM permissions does {res} need?",
              "Our deploy role is least-privilege, and applying `{res}` fails with an `AccessDenied` on an action we did not expect. "
              "Is there a list of IAM actions the provider calls for this resource, including reads and tagging? "
              "We are using provider {ver}.",
              ["There is no generated list; enable `TF_LOG=debug` to see each API call, or use IAM Access Analyzer policy generation from CloudTrail.",
               "Answered: the provider calls describe, list-tags and tagging APIs in addition to create; CloudTrail-based policy generation is the practical way."],
              ["Explain read-after-create calls",
               "Suggest Access Analyzer policy generation"],
              ["service/iam"],
              res=["aws_eks_cluster", "aws_opensearch_domain", "aws_lb", "aws_rds_cluster"]),
        ],
    },
)

REPOS["helm/helm"] = dict(
    timeline=[("2022-09-21", "3.10"), ("2023-01-18", "3.11"), ("2023-05-10", "3.12"), ("2023-09-27", "3.13"),
              ("2024-01-17", "3.14"), ("2024-05-15", "3.15"), ("2024-09-11", "3.16"), ("2025-01-15", "3.17"),
              ("2025-05-19", "3.18")],
    prefix="v", numbers=(11750, 30950),
    type_labels={"bug": "bug", "feature": "feature", "question": "question/support"},
    extra_labels={"bug": ["v3.x", "needs-triage"], "feature": ["v4.x", "proposal"], "question": ["v3.x"]},
    templates={
        "bug": [
            T("helm upgrade fails with no matches for kind {kind} in version {apiv}",
              "Upgrading release `{app}` in `{ns}` on Kubernetes {k8s} fails with `unable to build kubernetes objects from current release manifest: resource mapping not found for name: \"{app}\" ... no matches for kind \"{kind}\" in version \"{apiv}\"`. "
              "The new chart version no longer contains that object, but the stored release manifest still does. "
              "We use Helm {ver}.",
              ["The previous release manifest references an API removed from the cluster; run the `helm-mapkubeapis` plugin to rewrite the stored release, then upgrade.",
               "Expected behaviour, documented in the deprecated APIs guide; `helm mapkubeapis {app} -n {ns}` fixes the release record."],
              ["Inspect the release secret with `helm get manifest`",
               "Point to the deprecated Kubernetes APIs docs",
               "Recommend the mapkubeapis plugin"],
              ["kubernetes-api"],
              kind__apiv=[("PodSecurityPolicy", "policy/v1beta1"), ("HorizontalPodAutoscaler", "autoscaling/v2beta2"),
                          ("FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta2")]),
            T("helm template: {thing} on {ver}",
              "With Helm {ver}, running `helm template ./chart` gives wrong output: {thing}. "
              "The relevant template line is `{snippet}`. "
              "On {prev} the output was what we expected.",
              ["{answer}"],
              ["Create a minimal chart that reproduces it",
               "Compare output between {prev} and {ver}",
               "Bisect the change",
               "Add a template test"],
              ["templates"],
              thing__snippet__answer=[
                  ("large integers are rendered as `1e+06`", "maxConnections: {{ .Values.maxConnections }}",
                   "Working as designed: values are parsed as YAML and large numbers become float64. Quote the value or use `int64` / `toString` in the template."),
                  ("`lookup` returns an empty map", "{{ (lookup \"v1\" \"Secret\" .Release.Namespace \"db\").data }}",
                   "Expected: `helm template` does not contact the cluster, so `lookup` always returns an empty map. Use `--dry-run=server` with `helm install` to exercise lookups."),
                  ("`.Capabilities.APIVersions.Has` ignores `--api-versions`", "{{ if .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" }}",
                   "Regression in how `--api-versions` entries are merged with the built-in defaults; fixed in {fix}.")]),
            T("helm install --wait returns before {kind} is ready",
              "`helm install {app} ./chart --wait --timeout 10m` returns `STATUS: deployed` while the {kind} from the chart is still not ready. "
              "Our pipeline runs smoke tests right afterwards and they fail. "
              "Helm {ver}, Kubernetes {k8s}.",
              ["For Jobs use `--wait-for-jobs`; for StatefulSets with `OnDelete` update strategy Helm cannot infer readiness. Documented the limitations of `--wait`.",
               "Confirmed a readiness check bug for this resource kind; fixed in {fix}."],
              ["Reproduce with a minimal chart",
               "Read the readiness checker logic",
               "Document which kinds `--wait` covers"],
              ["wait"],
              kind=["Job", "StatefulSet", "DaemonSet"]),
            T("helm pull of OCI chart fails with {err}",
              "`helm pull oci://{registry}/charts/{app} --version 1.4.2` fails with `{err}`. "
              "`helm registry login` succeeded and `docker pull` of images from the same registry works. "
              "Helm {ver} on {os}.",
              ["The registry requires the repository scope in the token request; a fix for the auth scope was released in {fix}.",
               "The credentials were stored in the Docker credential helper that Helm could not call; setting `--registry-config` to a plain file fixed it."],
              ["Enable `--debug` and inspect the token request",
               "Reproduce against a local `registry:2`",
               "Check the credentials store used by Helm"],
              ["oci"],
              err=["failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized",
                   "unexpected status from HEAD request: 403 Forbidden", "not found"],
              registry=["ghcr.io/acme", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "harbor.internal.example.com/platform"],
              os=["macOS", "Ubuntu 22.04", "Windows 11"]),
        ],
        "feature": [
            T("OCI registries: support {x}",
              "Now that we publish all charts to an OCI registry, we miss {x}. "
              "With classic repositories this worked through `index.yaml`, but OCI has no index. "
              "Supporting this would make the migration to OCI complete for our teams.",
              ["Planned for Helm 4 as part of the OCI improvements; tracked in the HIP.",
               "Partly addressed: the OCI tag listing is used by `helm show` from {next}; search remains out of scope."],
              ["Link the relevant HIP",
               "Discuss at the Helm dev call",
               "Label as v4.x"],
              ["oci"],
              x=["`helm search` across OCI repositories", "listing available chart versions", "configuring registry mirrors"]),
            T("Add --{flag} to helm {cmd}",
              "We would like `helm {cmd} --{flag}` to {purpose}. "
              "Our GitOps pipeline currently post-processes Helm output with scripts to get this behaviour. "
              "A built-in flag would be much more reliable.",
              ["Implemented and released in Helm {next}.",
               "Accepted; the flag was merged and is part of {next}."],
              ["Check for an existing HIP",
               "Review the PR",
               "Document the flag"],
              ["cli"],
              flag__cmd__purpose=[("skip-schema-validation", "install", "skip `values.schema.json` validation for charts with broken schemas"),
                                  ("take-ownership", "upgrade", "adopt existing resources that lack Helm ownership metadata"),
                                  ("hide-notes", "install", "suppress NOTES.txt output in CI logs"),
                                  ("dry-run=server", "upgrade", "validate rendered manifests against the API server with lookups")]),
            T("Expose {x} to chart templates",
              "Chart authors on our team need {x} inside templates. "
              "Right now we pass it in through `--set` from the pipeline, which is easy to forget. "
              "Providing it as a built-in object would make charts more self-contained.",
              ["Declined: adding new built-in objects is a breaking change for Helm 3; reconsidered for Helm 4.",
               "Accepted for Helm 4 and tracked in the HIP for template objects."],
              ["Discuss backwards compatibility",
               "Label as v4.x"],
              ["templates"],
              x=["the OCI digest of the chart", "the Helm client version", "the target cluster name"]),
            T("Post-renderer: allow post-renderers to {x}",
              "We use post-renderers to run kustomize on chart output for `{app}`. "
              "It would be useful if post-renderers could {x}. "
              "Today we need a wrapper script per chart.",
              ["Post-renderer arguments already exist via `--post-renderer-args`; Helm 4 adds plugin-based post-renderers.",
               "Accepted for Helm 4 as plugin-based post-renderers."],
              ["Point to `--post-renderer-args`",
               "Link the Helm 4 plugin HIP"],
              ["post-render"],
              x=["be installed as plugins", "receive the release name and namespace", "be chained"]),
        ],
        "question": [
            T("How to set values for subchart alias {alias}?",
              "Our umbrella chart depends on the same `postgresql` chart twice, with aliases `{alias}` and `analytics-db`. "
              "Setting `postgresql.auth.database` has no effect on either. "
              "How do I pass values to an aliased dependency?",
              ["Values for an aliased dependency live under the alias key, for example `{alias}.auth.database`; global values go under `global`.",
               "Answered: use the alias name as the top-level key in values.yaml."],
              ["Show a values example with aliases",
               "Link the subchart docs"],
              ["dependencies"],
              alias=["orders-db", "users-db", "main-db"]),
            T("How to adopt an existing {kind} into a Helm release?",
              "A `{kind}` named `{app}` was created manually and now our chart also defines it. "
              "`helm install` fails with `rendered manifests contain a resource that already exists... invalid ownership metadata`. "
              "How can we make Helm take it over without deleting it?",
              ["Add the label `app.kubernetes.io/managed-by=Helm` and the annotations `meta.helm.sh/release-name` and `meta.helm.sh/release-namespace`; Helm then adopts it. Helm 3.17 also has `--take-ownership`.",
               "Answered with the ownership metadata steps."],
              ["Explain ownership metadata",
               "Show the kubectl annotate/label commands"],
              ["cli"],
              kind=["ConfigMap", "Service", "ServiceAccount", "Secret"]),
            T("How do I pin an OCI chart by digest with Helm {ver}?",
              "For supply-chain reasons we want to install `oci://{registry}/{app}` by digest rather than by tag. "
              "Is `helm install {app} oci://{registry}/{app}@sha256:...` supported, and how does it interact with `--version`? "
              "We are on Helm {ver}.",
              ["Digest references are supported for OCI charts from Helm 3.13; if both a tag and a digest are given, the digest must match.",
               "Answered: use the `@sha256:` form and omit `--version`."],
              ["Link the OCI docs",
               "Explain tag and digest precedence"],
              ["oci"],
              registry=["ghcr.io/acme/charts", "registry.example.com/helm"]),
            T("Why doesn't helm upgrade update CRD {crd}?",
              "We bumped the chart for `{app}` and its `crds/` directory contains a new version of `{crd}`, but after `helm upgrade` the cluster still has the old schema. "
              "Is this expected? "
              "How should CRD upgrades be handled?",
              ["Yes, Helm only installs CRDs from `crds/` and never upgrades or deletes them. Apply CRDs separately (`kubectl apply --server-side`) or ship them as templates.",
               "Answered with the CRD best-practices page."],
              ["Link the CRD best practices",
               "Explain why upgrades are skipped"],
              ["crds"],
              crd=["certificates.cert-manager.io", "servicemonitors.monitoring.coreos.com", "applications.argoproj.io"]),
        ],
    },
)

REPOS["prometheus/prometheus"] = dict(
    timeline=[("2022-12-21", "2.41"), ("2023-01-31", "2.42"), ("2023-03-21", "2.43"), ("2023-05-13", "2.44"),
              ("2023-06-23", "2.45"), ("2023-07-25", "2.46"), ("2023-09-06", "2.47"), ("2023-11-16", "2.48"),
              ("2024-01-15", "2.49"), ("2024-02-22", "2.50"), ("2024-03-18", "2.51"), ("2024-05-07", "2.52"),
              ("2024-06-16", "2.53"), ("2024-08-09", "2.54"), ("2024-10-22", "2.55"), ("2024-11-14", "3.0"),
              ("2025-01-02", "3.1"), ("2025-02-18", "3.2"), ("2025-04-08", "3.3"), ("2025-05-17", "3.4")],
    prefix="v", numbers=(11850, 16800),
    type_labels={"bug": "kind/bug", "feature": "kind/enhancement", "question": "kind/question"},
    extra_labels={"bug": ["priority/P3", "priority/P2"], "feature": ["priority/Pmaybe"], "question": []},
    templates={
        "bug": [
            T("Remote write stuck with {err} and growing WAL",
              "After upgrading to {ver}, remote write to our {backend} endpoint stops making progress and logs `{err}`. "
              "`prometheus_remote_storage_samples_pending` keeps growing and the WAL directory reaches {size}. "
              "Restarting Prometheus helps only for a few hours.",
              ["The receiver rejected samples and Prometheus retried them forever; non-recoverable errors are now dropped with a counter, fixed in {fix}.",
               "Caused by `max_shards` capped at 10 in our config; raising it and setting `capacity: 10000` allowed the queue to catch up."],
              ["Check `prometheus_remote_storage_*` metrics",
               "Compare shard counts with desired shards",
               "Reproduce against a slow receiver",
               "Review the retry logic for 4xx responses"],
              ["component/remote storage"],
              err=["context deadline exceeded", "server returned HTTP status 429 Too Many Requests", "out of order sample"],
              backend=["Mimir", "Thanos Receive", "VictoriaMetrics", "Cortex"], size=["40GB", "120GB"]),
            T("WAL replay takes {t} and Prometheus is OOMKilled on restart",
              "Our Prometheus with about {series} active series takes {t} to replay the WAL after a restart and then gets OOMKilled at the 32Gi limit. "
              "The last log lines are `Replaying WAL, this may take a while` followed by the container being killed. "
              "We run {ver} on Kubernetes {k8s}.",
              ["Memory snapshot on shutdown (`--enable-feature=memory-snapshot-on-shutdown`) cut replay time drastically; a replay memory spike was also fixed in {fix}.",
               "The churn from a misconfigured exporter created millions of short-lived series; dropping the offending label brought replay back to a few minutes."],
              ["Ask for `prometheus_tsdb_head_series` and churn metrics",
               "Profile memory during replay",
               "Suggest memory snapshot on shutdown",
               "Identify high-churn targets with `tsdb analyze`"],
              ["component/tsdb"],
              t=["40 minutes", "over an hour", "25 minutes"], series=["8M", "15M", "4M"]),
            T("kubernetes_sd with role {role} misses targets after {event}",
              "After {event}, Prometheus {ver} stops discovering new targets with `kubernetes_sd_configs` role `{role}`. "
              "The targets page shows pods that were deleted long ago, while new pods of `{app}` are missing. "
              "Only a Prometheus restart fixes discovery.",
              ["The client-go informer did not resync after a watch error; fixed by the client-go bump in {fix}.",
               "RBAC for `endpointslices` was missing from the Prometheus ClusterRole after switching roles, so the watch failed silently; the SD now logs the permission error."],
              ["Check `prometheus_sd_kubernetes_events_total`",
               "Look for watch errors in the debug logs",
               "Verify RBAC for the discovery role",
               "Reproduce by restarting the API server"],
              ["component/service discovery"],
              role=["endpointslice", "pod", "service"], event=["an API server upgrade", "a watch reconnect", "a control plane failover"]),
            T("Rule group {group} fails on {ver}: {err}",
              "Since {ver} the recording rule group `{group}` fails every evaluation with `{err}`. "
              "The same rules evaluated without errors on {prev}. "
              "The rule joins `kube_pod_info` with `container_cpu_usage_seconds_total` using `on(pod, namespace)`.",
              ["The new version surfaces duplicate series that were silently dropped before; fixing the join with `group_left` and ignoring the `instance` label resolved it.",
               "Confirmed a regression in vector matching introduced in {ver}; fixed in {fix}."],
              ["Run the rule expression in the query UI",
               "Check for duplicate series on the 'one' side",
               "Bisect the change between {prev} and {ver}"],
              ["component/rules"],
              err=["found duplicate series for the match group", "many-to-many matching not allowed: matching labels must be unique on one side",
                   "vector contains metrics with the same labelset after applying rule labels"],
              group=["k8s.rules", "node-exporter.rules", "slo-recording"]),
        ],
        "feature": [
            T("Allow {setting} per scrape job",
              "We run a single Prometheus for many teams and need {setting} configurable per `scrape_config`. "
              "Setting it globally either breaks some exporters or wastes resources on others. "
              "A per-job option would let teams tune their own jobs.",
              ["Implemented; the per-job setting is available from {next}.",
               "Accepted and merged; documented in the configuration reference."],
              ["Discuss in the dev summit",
               "Review the config change",
               "Update the configuration docs"],
              ["component/scraping"],
              setting=["`scrape_protocols`", "`keep_dropped_targets`", "`always_scrape_classic_histograms`", "`enable_compression`"]),
            T("PromQL: add {fn}",
              "We keep hitting the limits of existing PromQL functions when building dashboards for `{app}`. "
              "A function like {fn} would {purpose}. "
              "Recording rules and relabelling tricks do not cover it cleanly.",
              ["Added as an experimental function behind `--enable-feature=promql-experimental-functions` in {next}.",
               "Accepted after discussion in the dev summit; available as experimental from {next}."],
              ["Discuss in the dev summit",
               "Agree on function semantics",
               "Gate behind an experimental flag"],
              ["component/promql"],
              fn__purpose=[("`sort_by_label`", "make table panels stable without client-side sorting"),
                           ("`limitk`", "sample a handful of series per group for debugging"),
                           ("`info()`", "join info metrics without hand-written `group_left`"),
                           ("`ts_of_max_over_time`", "return when the maximum happened")]),
            T("Remote write: support {x}",
              "Our central {backend} cluster would benefit from {x} in remote write. "
              "Without it we run an extra proxy in front of every Prometheus. "
              "Is this something that could be added to the remote write protocol or client?",
              ["Covered by Remote-Write 2.0, available as experimental from {next}.",
               "Declined for the client; this belongs in a proxy. Documented a reference setup."],
              ["Link the Remote-Write 2.0 spec",
               "Discuss on the developers mailing list"],
              ["component/remote storage"],
              x=["sending metadata and exemplars with samples", "per-tenant headers derived from target labels", "zstd compression"],
              backend=["Mimir", "Thanos", "Cortex"]),
            T("Expose {metric} as a metric",
              "Operating Prometheus at scale we lack visibility into {mdesc}. "
              "A `{metric}` metric would let us alert before problems become outages. "
              "We currently approximate it from logs.",
              ["Added in {next}.",
               "Accepted; the metric was added alongside related TSDB metrics."],
              ["Check cardinality",
               "Review the PR",
               "Add the metric to the mixin dashboards"],
              ["component/tsdb"],
              metric__mdesc=[("prometheus_tsdb_head_series_created_by_job", "which scrape job creates the most new series"),
                             ("prometheus_rule_group_last_restore_duration_seconds", "how long alert state restoration takes"),
                             ("prometheus_sd_refresh_failures_total", "service discovery refresh failures per mechanism")]),
        ],
        "question": [
            T("How to drop the high-cardinality label {label} before ingestion?",
              "An exporter for `{app}` adds a `{label}` label with thousands of distinct values. "
              "We want to drop the label, but not the series, at scrape time. "
              "Is `relabel_configs` or `metric_relabel_configs` the right place?",
              ["Use `metric_relabel_configs` with `action: labeldrop` and `regex: {label}`; `relabel_configs` acts on targets before scraping. Make sure series remain unique after dropping.",
               "Answered with a labeldrop example and a warning about duplicate series."],
              ["Explain target versus metric relabelling",
               "Show a labeldrop example"],
              ["component/scraping"],
              label=["request_id", "user_id", "session", "url"]),
            T("How do I compute {what} in PromQL?",
              "I want a panel that shows {what} for our services. "
              "My current attempt returns either no data or one series per pod. "
              "What is the correct query?",
              ["Use `{query}`.",
               "Answered: `{query}`, and precompute it with a recording rule for dashboards."],
              ["Share the PromQL expression",
               "Suggest a recording rule"],
              ["component/promql"],
              what__query=[("the 99th percentile latency per route",
                            "histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))"),
                           ("the 5xx error ratio per service",
                            "sum by (service) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (service) (rate(http_requests_total[5m]))"),
                           ("the number of pods restarted in the last hour",
                            "count(increase(kube_pod_container_status_restarts_total[1h]) > 0)")]),
            T("Why are my alerts {x}?",
              "The alert `{alert}` is {x}. "
              "The rule uses `for: 5m` and the expression looks stable in the graph view. "
              "Prometheus {ver} with two replicas sending to the same Alertmanager cluster.",
              ["Gaps in the series reset the `for` timer; use `max_over_time` or `keep_firing_for` to smooth flapping, and check that both replicas carry distinct external labels.",
               "Answered: the Alertmanager URL was only configured on one replica; with both configured and deduplication via identical labels it works."],
              ["Check `ALERTS` series and evaluation timestamps",
               "Explain `for` and `keep_firing_for`",
               "Review Alertmanager configuration"],
              ["component/rules"],
              x=["firing and resolving every few minutes", "not reaching Alertmanager", "firing twice"],
              alert=["KubePodCrashLooping", "HighErrorRate", "NodeFilesystemAlmostFull"]),
            T("What retention settings should I use for {days} of data on a {size} disk?",
              "We ingest about {rate} samples per second and want to keep {days} of data locally. "
              "The data volume is {size}. "
              "Should I use `--storage.tsdb.retention.time`, `--storage.tsdb.retention.size`, or both?",
              ["Set both: time retention for the policy and size retention slightly below the disk size as a safety net. Expect roughly 1-2 bytes per sample after compression.",
               "Answered with the sizing formula from the storage docs; for longer retention use remote storage."],
              ["Share the storage sizing formula",
               "Explain how size-based retention works"],
              ["component/tsdb"],
              days=["15 days", "30 days", "90 days"], size=["200GB", "500GB", "1TB"], rate=["50k", "200k", "1M"]),
        ],
    },
)

REPOS["grafana/grafana"] = dict(
    timeline=[("2022-11-30", "9.3"), ("2023-02-28", "9.4"), ("2023-04-11", "9.5"), ("2023-06-13", "10.0"),
              ("2023-08-22", "10.1"), ("2023-10-24", "10.2"), ("2024-01-23", "10.3"), ("2024-03-05", "10.4"),
              ("2024-05-14", "11.0"), ("2024-06-25", "11.1"), ("2024-08-27", "11.2"), ("2024-10-22", "11.3"),
              ("2024-12-05", "11.4"), ("2025-01-28", "11.5"), ("2025-03-25", "11.6"), ("2025-05-05", "12.0")],
    prefix="v", numbers=(61000, 107500),
    type_labels={"bug": "type/bug", "feature": "type/feature-request", "question": "type/question"},
    extra_labels={"bug": ["needs investigation", "prio/medium"], "feature": ["prio/low"], "question": []},
    templates={
        "bug": [
            T("Alerting: rules report {state} although the {ds} query returns data",
              "After upgrading to Grafana {ver}, alert rules on our {ds} datasource go into {state} every few evaluations. "
              "Running the same query in Explore over the same range returns data. "
              "The rule uses a reduce expression with `last()` and a threshold of `> 0.9`.",
              ["The query used `$__interval`, which resolves differently in alert evaluation; using a fixed step fixed it and the docs now warn about it.",
               "Confirmed a regression in the query timeout handling for alert evaluation; fixed in {fix}."],
              ["Compare the query in Explore and the alert preview",
               "Check the scheduler logs with `[log.filters] ngalert:debug`",
               "Reproduce with a local {ds} instance"],
              ["area/alerting"],
              state=["`NoData`", "`Error`"], ds=["Prometheus", "Loki", "CloudWatch", "Elasticsearch"]),
            T("Provisioned dashboards from {path} lose version history on every reload",
              "Dashboards provisioned from `{path}` are re-saved every `updateIntervalSeconds` even when files did not change. "
              "The dashboard versions list grows by one entry every 10 seconds and the database keeps growing. "
              "Grafana {ver} with the sidecar from the Helm chart.",
              ["The sidecar rewrote files with a new mtime on every loop, which triggers reprovisioning; setting the sidecar to compare checksums fixed it.",
               "A bug in the file checksum comparison was fixed in {fix}."],
              ["Check mtime and checksum of provisioned files",
               "Inspect the `dashboard_version` table growth",
               "Reproduce with the k8s-sidecar"],
              ["area/provisioning"],
              path=["/var/lib/grafana/dashboards", "/etc/grafana/provisioning/dashboards/team-a", "/tmp/dashboards"]),
            T("Time series panel {sym}",
              "In Grafana {ver} the time series panel {sym} for the `{app}` dashboard. "
              "This worked correctly on {prev}. "
              "The panel uses a Prometheus query with `rate(...[$__rate_interval])`.",
              ["Regression fixed in {fix}.",
               "Caused by a field override that applied to all series; removing it fixed the display. No code change needed."],
              ["Export the panel JSON",
               "Reproduce with TestData",
               "Bisect between {prev} and {ver}"],
              ["area/panel/timeseries"],
              sym=["shows gaps although `Connect null values` is set to Always", "uses the wrong unit in the tooltip for `bytes(IEC)`",
                   "ignores the per-series color overrides"]),
            T("Template variable {var} not refreshed on time range change",
              "The query variable `{var}` is set to `Refresh: On time range change`, but changing the time picker keeps the old values. "
              "Panels that use `{var}` therefore show series that no longer exist. "
              "Grafana {ver}, Prometheus datasource.",
              ["The variable was chained to another variable with `Refresh: On dashboard load`, so it was not re-evaluated; fixed the dependency ordering in {fix}.",
               "Confirmed a regression in the Scenes-based dashboards; fixed in {fix}."],
              ["Reproduce with a chained variable dashboard",
               "Check the variable dependency graph",
               "Add a regression test"],
              ["area/dashboard/templating"],
              var=["$namespace", "$pod", "$instance", "$cluster"]),
        ],
        "feature": [
            T("Alerting: support {x}",
              "We manage Grafana alerting for about {n} rules across many teams. "
              "It would help a lot if Grafana supported {x}. "
              "Today we work around it with scripts against the provisioning API.",
              ["Implemented in Grafana {next}.",
               "Accepted and added to the alerting roadmap; partial support shipped in {next}."],
              ["Check the alerting roadmap",
               "Discuss with the alerting squad",
               "Add to a milestone"],
              ["area/alerting"],
              x=["exporting contact points and policies as Terraform HCL", "importing Prometheus rule files directly", "templating notification titles per contact point"],
              n=["300", "1200", "80"]),
            T("Dashboards: {x}",
              "Our operations dashboards for `{cluster}` are getting large. "
              "We would like Grafana to {x}. "
              "This would make navigating big dashboards much easier.",
              ["Shipped as part of the new dashboard layouts in Grafana {next}.",
               "Accepted and tracked in the dashboards roadmap."],
              ["Collect use cases",
               "Check overlap with dynamic dashboards",
               "Add to roadmap"],
              ["area/dashboard"],
              x=["support tabs inside rows", "add a copy-panel-link button that keeps the time range", "allow collapsing rows by default per viewer"]),
            T("Provisioning: {x}",
              "We provision everything in Grafana from Git via our GitOps pipeline. "
              "It would be very useful if provisioning could {x}. "
              "This would remove the need for a custom sync job.",
              ["Covered by the Git Sync feature in Grafana {next}, currently experimental.",
               "Accepted; implemented behind a feature toggle in {next}."],
              ["Discuss with the provisioning team",
               "Link Git Sync plans"],
              ["area/provisioning"],
              x=["read dashboards directly from a Git repository", "delete folders that are no longer present in files", "interpolate environment variables in dashboard JSON"],
              since="2024-12-01"),
            T("{ds} datasource: support {x}",
              "We use the {ds} datasource heavily and are missing {x}. "
              "Without it we have to duplicate queries in alert rules and dashboards. "
              "Would the team consider adding it?",
              ["Added in Grafana {next}.",
               "Accepted; the datasource team added it to their backlog."],
              ["Route to the datasource owners",
               "Check the upstream API support"],
              ["area/datasource"],
              ds__x=[("Loki", "query splitting by stream shard"), ("Prometheus", "exemplars from remote-read backends"),
                     ("Tempo", "TraceQL metrics queries in alert rules"), ("CloudWatch", "cross-account observability")]),
        ],
        "question": [
            T("How to provision {obj} with the Helm chart?",
              "We deploy Grafana {ver} with the official Helm chart and want to provision {obj} declaratively. "
              "The values file has several sidecar and provisioning sections and I am not sure which one applies. "
              "What is the recommended way?",
              ["Enable `sidecar.{kind}.enabled` and label ConfigMaps or Secrets with the configured label; the sidecar loads them at runtime.",
               "Answered with a values example; for Secrets use `envFromSecret` and reference variables in the provisioning file."],
              ["Share a values.yaml snippet",
               "Link the provisioning docs"],
              ["area/provisioning"],
              obj__kind=[("datasources from a Secret", "datasources"), ("alert rules", "alerts"),
                         ("dashboards from ConfigMaps in all namespaces", "dashboards")]),
            T("Why does the {ds} query work in Explore but not in an alert rule?",
              "In Explore my {ds} query returns a nice series, but the same query in an alert rule errors with `{err}`. "
              "The query uses a dashboard variable. "
              "How should I write queries for alert rules?",
              ["Alert rules cannot use dashboard template variables; replace them with concrete values or use a label matcher, and add a reduce expression.",
               "Answered: alert rules need a reduce step to turn series into numbers, and variables are not supported."],
              ["Explain alert query evaluation",
               "Show a reduce plus threshold example"],
              ["area/alerting"],
              ds=["Prometheus", "Loki", "CloudWatch"],
              err=["template variables are not supported in alert queries", "invalid format of evaluation results: looks like time series data, only reduced data can be alerted on"]),
            T("How to run Grafana in HA with {x}?",
              "We want to run three Grafana {ver} replicas behind a load balancer. "
              "I am unsure how {x} must be configured so that sessions and alerting work. "
              "Is there a reference setup?",
              ["Use a shared MySQL or PostgreSQL database, set `[unified_alerting] ha_peers` to the headless service so alert state is shared, and sessions are then stored in the database.",
               "Answered with the HA setup docs; the key pieces are an external database and alerting HA peers."],
              ["Link the HA setup docs",
               "Explain alerting HA gossip"],
              ["area/ha"],
              x=["the database", "alerting high availability", "session storage"]),
            T("How do I show {x} in a stat panel?",
              "I have a Prometheus query for `{app}` and want the stat panel to display {x}. "
              "The default calculation shows the mean of the range. "
              "Which options should I use?",
              ["Set `Value options > Calculation` to the right reducer (for example `Last *` for the last non-null value) and use a transformation for totals.",
               "Answered with the reduce options and a percentage unit example."],
              ["Explain value calculation options",
               "Share a panel JSON snippet"],
              ["area/panel/stat"],
              x=["the last non-null value", "a percentage of the total", "the value from one hour ago"]),
        ],
    },
)

REPOS["istio/istio"] = dict(
    timeline=[("2022-11-15", "1.16"), ("2023-02-14", "1.17"), ("2023-06-07", "1.18"), ("2023-09-05", "1.19"),
              ("2023-11-14", "1.20"), ("2024-03-13", "1.21"), ("2024-05-13", "1.22"), ("2024-08-14", "1.23"),
              ("2024-11-07", "1.24"), ("2025-03-03", "1.25"), ("2025-05-08", "1.26")],
    prefix="", numbers=(42500, 56700),
    type_labels={"bug": "kind/bug", "feature": "kind/enhancement", "question": "kind/question"},
    extra_labels={"bug": ["lifecycle/needs-triage", "lifecycle/needs-info"], "feature": ["lifecycle/needs-triage"],
                  "question": ["lifecycle/needs-triage"]},
    templates={
        "bug": [
            T("Sidecar injection fails with {err} on {ver}",
              "After upgrading istiod to {ver}, new pods in `{ns}` are created without a sidecar and the ReplicaSet events show `{err}`. "
              "The namespace is labelled `istio-injection=enabled` and existing pods are unaffected. "
              "Kubernetes {k8s}.",
              ["A NetworkPolicy blocked the API server from reaching istiod on port 15017; allowing it fixed injection.",
               "The webhook caBundle was not patched after the revision change; fixed in {fix} and documented for canary upgrades."],
              ["Check `istioctl x precheck`",
               "Verify API server to istiod connectivity on 15017",
               "Inspect the MutatingWebhookConfiguration caBundle"],
              ["area/environments"],
              err=["failed calling webhook \"namespace.sidecar-injector.istio.io\": context deadline exceeded",
                   "x509: certificate signed by unknown authority", "no endpoints available for service \"istiod\""]),
            T("503 {flag} between {app} and {svc} after enabling STRICT mTLS",
              "After applying a mesh-wide `PeerAuthentication` with `mode: STRICT`, calls from `{app}` to `{svc}` fail with `503` and response flags `{flag}` in the access log. "
              "`istioctl proxy-config cluster` shows the destination using plaintext. "
              "Istio {ver}.",
              ["A DestinationRule with `tls.mode: DISABLE` overrode auto mTLS for that host; removing it fixed the 503s.",
               "The destination workload had no sidecar, so STRICT mode rejected plaintext; a port-level PERMISSIVE exception was added until it is injected."],
              ["Check `istioctl x describe pod` for the destination",
               "Look for DestinationRules overriding TLS",
               "Inspect Envoy access logs for response flags"],
              ["area/security"],
              flag=["UF,URX", "UC", "NR"], svc=["payments-api", "redis", "ledger-db"]),
            T("Ambient mode: ztunnel drops connections to {target}",
              "With ambient mode on Istio {ver}, connections from `{ns}` to {target} are reset after a few seconds. "
              "ztunnel logs `error access connection complete ... error=\"connection closed due to connection drain\"`. "
              "The same traffic works when the namespace is removed from the ambient mesh.",
              ["Fixed in ztunnel shipped with Istio {fix}; the drain logic now ignores long-lived connections to unaffected workloads.",
               "The target used host networking, which ambient does not capture; documented the limitation and added a warning to `istioctl`."],
              ["Collect ztunnel logs at debug level",
               "Reproduce with a kind cluster in ambient mode",
               "Check the workload's network mode"],
              ["area/ambient"],
              target=["headless services", "pods with hostNetwork", "a StatefulSet on port 9042"],
              since="2023-06-07"),
            T("istiod memory grows to {mem} with many ServiceEntries",
              "Our mesh has around {n} ServiceEntries generated by an operator, and istiod memory grows to {mem} within a day. "
              "Pushes take several seconds and `pilot_xds_push_time` is high. "
              "Istio {ver}.",
              ["Scoping config with a `Sidecar` resource per namespace and `exportTo` on ServiceEntries reduced memory by 70%.",
               "A leak in the ServiceEntry index was fixed in {fix}."],
              ["Capture a heap profile from istiod",
               "Check `pilot_xds_pushes` and push sizes",
               "Recommend Sidecar scoping and exportTo"],
              ["area/perf and scalability"],
              mem=["6GiB", "12GiB", "20GiB"], n=["3000", "8000", "15000"]),
        ],
        "feature": [
            T("Gateway API: support {x}",
              "We are migrating our ingress to Gateway API on Istio {ver}. "
              "{x} is part of the spec but not yet supported by Istio's implementation. "
              "Supporting it would let us drop our remaining Istio Gateway and VirtualService objects.",
              ["Implemented and conformant in Istio {next}.",
               "Accepted; tracked in the Gateway API conformance issue."],
              ["Check Gateway API conformance status",
               "Plan the implementation in networking WG"],
              ["area/networking"],
              x=["BackendTLSPolicy", "GRPCRoute retries", "TCPRoute through waypoints"]),
            T("Telemetry API: add a way to {x}",
              "We configure access logging and tracing with the Telemetry API. "
              "We are missing a way to {x}. "
              "This would reduce our log volume and improve trace quality.",
              ["Added in Istio {next}.",
               "Accepted; tracked in the Telemetry API roadmap."],
              ["Discuss in the extensions WG",
               "Propose an API change"],
              ["area/extensions and telemetry"],
              x=["filter access logs per workload by response code", "add custom tracing tags from request headers", "sample traces per route"]),
            T("Allow configuring {x} per namespace",
              "Different teams in our mesh need different values for {x}. "
              "Today this is only mesh-wide in `meshConfig` or per-pod annotations, which teams forget. "
              "A namespace-level default would be ideal.",
              ["Use a `ProxyConfig` resource in the namespace, which sets proxy defaults per namespace or workload.",
               "Accepted for the Sidecar API; tracked in the networking WG."],
              ["Check whether ProxyConfig covers it",
               "Discuss in networking WG"],
              ["area/networking"],
              x=["proxy concurrency", "holdApplicationUntilProxyStarts", "outbound traffic policy"]),
            T("istioctl: add {cmd}",
              "Operating multiple clusters we frequently need {purpose}. "
              "An `istioctl {cmd}` command would make this much easier than scripting `kubectl` and `proxy-config`. "
              "It could reuse the analyzers already in `istioctl analyze`.",
              ["Implemented as an experimental command in Istio {next}.",
               "Declined; `istioctl x` already offers similar functionality and the docs were updated."],
              ["Check existing istioctl commands",
               "Review the proposal"],
              ["area/user experience"],
              cmd__purpose=[("x ambient-check", "to verify whether workloads are ready for ambient mode"),
                            ("x waypoint status", "to see which waypoints serve which services"),
                            ("x config-diff", "to compare effective configuration between two revisions")]),
        ],
        "question": [
            T("How do I exclude port {port} from sidecar interception?",
              "Our `{app}` pod talks to an external database on port {port} and the connection breaks when the sidecar is injected. "
              "We want the sidecar to ignore this port entirely. "
              "What is the right annotation?",
              ["Use `traffic.sidecar.istio.io/excludeOutboundPorts: \"{port}\"` on the pod template (or `excludeInboundPorts` for inbound).",
               "Answered with the excludeOutboundPorts annotation; a ServiceEntry is the better long-term option."],
              ["Point to the annotations reference",
               "Mention ServiceEntry as an alternative"],
              ["area/networking"],
              port=["5432", "3306", "9092", "6379"]),
            T("How to migrate {ns} from sidecars to ambient without downtime?",
              "We run Istio {ver} with sidecars and want to move the `{ns}` namespace to ambient mode. "
              "Do we need to remove sidecars first, and what happens to existing AuthorizationPolicies? "
              "Is there a migration guide?",
              ["Label the namespace `istio.io/dataplane-mode=ambient`, deploy a waypoint for L7 policies, then restart workloads to remove sidecars. L7 AuthorizationPolicies must target the waypoint.",
               "Answered with the sidecar-to-ambient migration guide."],
              ["Link the migration guide",
               "Explain waypoint requirements for L7 policies"],
              ["area/ambient"],
              since="2024-05-13"),
            T("How to send {pct}% of traffic to a canary of {app}?",
              "We deploy a canary version of `{app}` with the label `version: v2` and want {pct}% of requests to go to it. "
              "I tried weights in a VirtualService but all traffic still hits v1. "
              "What am I missing?",
              ["You need a DestinationRule defining subsets `v1` and `v2`; the VirtualService weights reference those subsets.",
               "Answered: the VirtualService host did not match the Service FQDN used by clients."],
              ["Ask for VirtualService and DestinationRule YAML",
               "Run `istioctl analyze`"],
              ["area/networking"],
              pct=["5", "10", "25"]),
            T("Why does {tool} show mTLS as PERMISSIVE for {app}?",
              "We applied `PeerAuthentication` with `mode: STRICT` in `istio-system`, but {tool} still reports `{app}` as PERMISSIVE. "
              "Is the mesh-wide policy not applied, or is this a reporting issue? "
              "Istio {ver}.",
              ["A namespace-level PeerAuthentication in `{ns}` overrides the mesh-wide policy; remove it or set it to STRICT.",
               "Answered: mesh-wide policies must be in the root namespace and have no selector."],
              ["Check for namespace-level PeerAuthentications",
               "Run `istioctl x describe pod`"],
              ["area/security"],
              tool=["`istioctl x describe`", "Kiali"]),
        ],
    },
)

REPOS["cert-manager/cert-manager"] = dict(
    timeline=[("2022-10-17", "1.10"), ("2023-01-11", "1.11"), ("2023-05-19", "1.12"), ("2023-09-12", "1.13"),
              ("2024-01-31", "1.14"), ("2024-06-05", "1.15"), ("2024-10-03", "1.16"), ("2025-02-03", "1.17"),
              ("2025-06-10", "1.18")],
    prefix="v", numbers=(5680, 7800),
    type_labels={"bug": "kind/bug", "feature": "kind/feature", "question": "kind/question"},
    extra_labels={"bug": ["priority/important-soon", "triage/needs-information"], "feature": ["priority/backlog"],
                  "question": ["triage/support"]},
    templates={
        "bug": [
            T("HTTP-01 challenge fails with {err} behind {ingress}",
              "Certificates for `{host}` stay `False` and the Challenge reports `Waiting for HTTP-01 challenge propagation: {err}`. "
              "We use {ingress} and cert-manager {ver}. "
              "Curling `http://{host}/.well-known/acme-challenge/<token>` from outside returns the expected token.",
              ["The self-check ran from inside the cluster, where `{host}` resolved to the load balancer without hairpin NAT; setting `--acme-http01-solver-nameservers` to public resolvers fixed the self-check.",
               "The solver Ingress lacked the ingress class annotation required by {ingress}; setting `ingressClassName` in the solver fixed it."],
              ["Describe the Challenge and the solver Ingress",
               "Test the self-check from inside the cluster",
               "Check hairpin NAT and ingress class"],
              ["area/acme/http01"],
              err=["wrong status code '404', expected '200'", "connection refused", "dial tcp: i/o timeout"],
              ingress=["ingress-nginx", "Traefik", "the AWS Load Balancer Controller"],
              host=["app.example.com", "grafana.internal.acme.io", "api.shop.example.org"]),
            T("DNS-01 with {provider} fails: {err}",
              "Our wildcard Certificate `*.{zone}` fails in the DNS-01 step with `{err}`. "
              "The ClusterIssuer uses the {provider} solver with cert-manager {ver}. "
              "The same credentials work from the CLI.",
              ["The credentials lacked the permission listed in the error; after granting it the challenge succeeded. The docs now list the minimal permissions.",
               "Ambient credentials were not enabled for the ClusterIssuer namespace; setting `--cluster-issuer-ambient-credentials` fixed it."],
              ["Check the solver credentials and permissions",
               "Reproduce with the same credentials outside the cluster",
               "Update the provider docs"],
              ["area/acme/dns01"],
              provider__err=[("Route53", "AccessDenied: User is not authorized to perform: route53:ChangeResourceRecordSets"),
                             ("Cloudflare", "Actor requires permission com.cloudflare.api.account.zone.list"),
                             ("Azure DNS", "AADSTS70021: No matching federated identity record found"),
                             ("Google Cloud DNS", "googleapi: Error 403: Forbidden, forbidden")],
              zone=["example.com", "apps.acme.io", "internal.example.net"]),
            T("Certificate {name} not renewed before expiry with renewBefore {rb}",
              "The Certificate `{name}` in `{ns}` expired although `renewBefore: {rb}` is set and the duration is `2160h`. "
              "`cmctl status certificate {name}` showed `Renewal Time` in the past without an attempt. "
              "cert-manager {ver}.",
              ["The controller was stuck on a leader election lease after a node failure; fixed the lease renewal and added a metric. Released in {fix}.",
               "The Issuer was not Ready at renewal time and the backoff grew to hours; the backoff cap was fixed in {fix}."],
              ["Check CertificateRequest history",
               "Inspect controller logs around the renewal time",
               "Check Issuer readiness"],
              ["area/renewal"],
              name=["ingress-tls", "webhook-cert", "api-gateway-tls"], rb=["720h", "360h", "240h"]),
            T("cainjector uses {mem} of memory in large clusters",
              "In a cluster with about {n} Secrets, cainjector memory grows to {mem} and the pod is OOMKilled. "
              "We only need CA injection for a handful of webhooks. "
              "cert-manager {ver}.",
              ["cainjector caches every Secret it watches; setting `--enable-certificates-data-source=false` and limiting it to the webhook namespaces reduced memory below 300MiB.",
               "Fixed in {fix} by caching only Secrets with the injectable annotation."],
              ["Profile cainjector memory",
               "Check the number of watched Secrets",
               "Recommend namespace scoping"],
              ["area/cainjector"],
              mem=["2GiB", "4GiB", "6GiB"], n=["20k", "60k", "100k"]),
        ],
        "feature": [
            T("Certificate API: support {x}",
              "We issue certificates for internal services and need {x}. "
              "Our current workaround is to create CSRs manually and sign them with a CA Issuer. "
              "Native support in the Certificate resource would keep everything declarative.",
              ["Implemented in cert-manager {next}.",
               "Accepted behind a feature gate; available in {next}."],
              ["Review the API design",
               "Add a feature gate",
               "Document the new field"],
              ["area/api"],
              x=["`otherNames` SANs", "name constraints on CA certificates", "a custom `subject.serialNumber`", "the `keyUsages` extension marked critical"]),
            T("cmctl: add a command {x}",
              "When operating many clusters we frequently need {x}. "
              "We script this with `kubectl` and `jq` today. "
              "A cmctl subcommand would help.",
              ["Implemented in the cmctl repository; released with {next}.",
               "Declined; maintainers suggested a kubectl plugin and documented an example."],
              ["Check cmctl repository",
               "Review the PR"],
              ["area/cmctl"],
              x=["to renew all certificates matching a label selector", "to print the full chain of an issued certificate", "to check which certificates expire in the next N days"]),
            T("Expose {metric} metric",
              "For our SLOs we want to alert on {mdesc}. "
              "The existing `certmanager_certificate_expiration_timestamp_seconds` is not enough for that. "
              "Could cert-manager export `{metric}`?",
              ["Added in {next}.",
               "Accepted; added alongside the existing certificate metrics."],
              ["Check cardinality",
               "Review the PR"],
              ["area/monitoring"],
              metric__mdesc=[("certmanager_certificate_renewal_timestamp_seconds", "when the next renewal is scheduled"),
                             ("certmanager_acme_client_request_duration_seconds", "slow ACME requests"),
                             ("certmanager_certificate_ready_status", "certificates that are not ready")]),
            T("Support {issuer} as an issuer",
              "Our security team requires certificates from {issuer}. "
              "Is there an external issuer, or could this be added in-tree? "
              "We want to avoid maintaining our own controller.",
              ["New issuers are implemented out of tree as external issuers; an external issuer for {issuer} is listed in the docs.",
               "Declined for in-tree; the issuer-lib project makes writing an external issuer straightforward."],
              ["Explain the external issuer policy",
               "Point to issuer-lib"],
              ["area/issuers"],
              issuer=["AWS Private CA", "Google CAS", "Smallstep step-ca", "an internal EJBCA"]),
        ],
        "question": [
            T("How to share a wildcard certificate for {domain} across namespaces?",
              "We issue `*.{domain}` once in `cert-manager` and want Ingresses in many namespaces to use it. "
              "Secrets are namespaced, so the Ingresses cannot reference it. "
              "What is the recommended approach?",
              ["cert-manager does not copy Secrets; either issue a Certificate per namespace (cheap with DNS-01) or use a replicator such as trust-manager for CA bundles or a secret reflector.",
               "Answered: issue per namespace or terminate TLS at a shared Gateway that references the Secret."],
              ["Explain namespaced Secrets",
               "Suggest per-namespace certificates or a shared Gateway"],
              ["area/docs"],
              domain=["apps.example.com", "dev.acme.io", "internal.example.org"]),
            T("How do I use a private ACME server with {ca}?",
              "We run an internal ACME server signed by {ca}. "
              "The ClusterIssuer fails with `x509: certificate signed by unknown authority` when registering. "
              "How do I make cert-manager trust it?",
              ["Set `spec.acme.caBundle` on the ClusterIssuer to the PEM-encoded root of {ca}.",
               "Answered: use `caBundle` on the ACME issuer; do not use `skipTLSVerify` in production."],
              ["Point to the ACME issuer caBundle field",
               "Explain why skipTLSVerify is discouraged"],
              ["area/acme"],
              ca=["our internal root CA", "a Vault PKI root", "an enterprise Microsoft CA"]),
            T("Which issuer should I use for {use}?",
              "We are setting up cert-manager {ver} for {use}. "
              "The docs list CA, Vault, ACME and self-signed issuers and I am unsure which fits. "
              "What do you recommend?",
              ["{answer}"],
              ["Explain the trade-offs",
               "Link the issuer docs"],
              ["area/docs"],
              use__answer=[("internal mTLS between services", "Use a CA or Vault issuer for internal identities, and csi-driver or istio-csr for workload certificates."),
                           ("a staging environment with Let's Encrypt rate limits", "Use the Let's Encrypt staging ACME endpoint in a separate ClusterIssuer for staging."),
                           ("webhook serving certificates", "A self-signed issuer that bootstraps a CA issuer is the standard pattern; cainjector injects the CA into the webhook.")]),
            T("How to migrate from {x} to cert-manager?",
              "We currently use {x} for about {n} certificates. "
              "How can we switch to cert-manager without downtime? "
              "Can cert-manager adopt existing TLS Secrets?",
              ["Create Certificates with the same `secretName`; cert-manager will see the existing Secret, and reissue it when it does not match the spec. Do it one namespace at a time.",
               "Answered with the migration steps and a note to keep the old tool running until all Certificates are Ready."],
              ["Explain how cert-manager handles existing Secrets",
               "Suggest a staged migration"],
              ["area/docs"],
              x=["manually managed TLS Secrets", "kube-lego", "an in-house renewal CronJob"], n=["50", "200", "15"]),
        ],
    },
)

REPOS["kubernetes-sigs/kustomize"] = dict(
    timeline=[("2022-06-16", "4.5"), ("2023-02-01", "5.0"), ("2023-06-21", "5.1"), ("2023-10-19", "5.2"),
              ("2023-12-22", "5.3"), ("2024-04-09", "5.4"), ("2024-10-15", "5.5"), ("2025-01-14", "5.6"),
              ("2025-06-01", "5.7")],
    prefix="v", numbers=(4960, 5940),
    type_labels={"bug": "kind/bug", "feature": "kind/feature", "question": "kind/support"},
    extra_labels={"bug": ["needs-triage", "triage/accepted"], "feature": ["needs-triage", "triage/under-consideration"],
                  "question": ["needs-triage"]},
    templates={
        "bug": [
            T("helmCharts generator ignores {field} in {ver}",
              "With kustomize {ver}, the `helmCharts` entry for `{app}` ignores `{field}`. "
              "Running `kustomize build --enable-helm` produces the chart defaults. "
              "The same kustomization worked with {prev}.",
              ["Regression in the helm chart inflation generator; fixed in {fix}.",
               "The field must be set on the chart entry, not under `helmGlobals`; documentation clarified."],
              ["Reproduce with a minimal chart",
               "Compare `helm template` output with kustomize",
               "Bisect between {prev} and {ver}"],
              ["area/helm"],
              field=["valuesInline", "namespace", "includeCRDs", "apiVersions"]),
            T("replacements fail with {err}",
              "A `replacements` entry that copies the image from a ConfigMap into `{app}` fails with `{err}`. "
              "The target selector is `kind: Deployment, name: {app}` and the field path uses a list selector. "
              "kustomize {ver}.",
              ["Use `options.create: true` when the target field does not exist yet; the error message was improved in {fix}.",
               "Confirmed a bug in list-item selection in field paths; fixed in {fix}."],
              ["Reproduce with a minimal kustomization",
               "Check the fieldPath syntax",
               "Add a unit test for list selectors"],
              ["area/replacements"],
              err=["unable to find field in replacement target", "multiple matches for selector", "fieldPath `spec.template.spec.containers.[name=app].image` is missing"]),
            T("namespace transformer rewrites {what} in {kind}",
              "Setting `namespace: {ns}` in the overlay rewrites {what} in `{kind}` objects that must stay untouched. "
              "This breaks the bindings for a shared operator. "
              "kustomize {ver}.",
              ["Use `unsetOnly: true` on the NamespaceTransformer to only set missing namespaces.",
               "Confirmed; a fix to skip subjects pointing at other namespaces landed in {fix}."],
              ["Reproduce with a ClusterRoleBinding",
               "Review the namespace transformer field specs",
               "Document `unsetOnly`"],
              ["area/transformers"],
              kind__what=[("ClusterRoleBinding", "subjects that point at other namespaces"),
                          ("RoleBinding", "the namespace of ServiceAccount subjects"),
                          ("ValidatingWebhookConfiguration", "the service reference namespace")]),
            T("Component patch applied twice when included from {n} overlays",
              "A component that adds a sidecar container is included by {n} overlays that share a base. "
              "The output for `{app}` contains the sidecar twice and `kubectl apply` fails with a duplicate name error. "
              "kustomize {ver}.",
              ["Components were referenced both from the overlay and a nested kustomization, so the patch applied twice by design; restructuring the overlays fixed it.",
               "Fixed in {fix}: components are now de-duplicated per resource accumulator."],
              ["Reproduce with nested overlays",
               "Check component inclusion order",
               "Add a test case"],
              ["area/components"],
              n=["two", "three"]),
        ],
        "feature": [
            T("kustomize edit: support {x}",
              "We use `kustomize edit` in CI to update overlays. "
              "There is currently no support for {x}. "
              "Adding it would let us avoid `yq` in our pipelines.",
              ["Implemented in {next}.",
               "Accepted; good first issue, implemented by a contributor in {next}."],
              ["Check existing edit subcommands",
               "Label as good first issue"],
              ["area/kustomize-edit"],
              x=["adding components", "setting image digests from a file", "removing patches by target"]),
            T("Patches: allow targeting by {x}",
              "We want to apply a patch to all resources matched by {x}. "
              "Today `target` supports kind, name, namespace and label or annotation selectors only. "
              "This would simplify our platform overlays significantly.",
              ["Declined: the current selectors cover most cases and the team wants to keep selection simple.",
               "Under consideration; needs a KEP-style proposal."],
              ["Discuss in SIG CLI",
               "Ask for a proposal"],
              ["area/patches"],
              x=["a regex on annotation values", "the API group only", "a field value"]),
            T("helmCharts: support {x}",
              "We inflate charts with kustomize and need {x}. "
              "Without it we have to pre-render charts with `helm template` and commit the output. "
              "Support in the helm generator would be great.",
              ["Implemented in {next}.",
               "Accepted; tracked in the helm generator improvements issue."],
              ["Review the helm generator options",
               "Implement and add tests"],
              ["area/helm"],
              x=["OCI chart repositories", "passing `--kube-version`", "values from a ConfigMap generator"]),
            T("Built-in transformer to {x}",
              "Many of our overlays repeat the same patch to {x}. "
              "A built-in transformer would express this intent directly. "
              "It could work similarly to the images transformer.",
              ["Declined; use a reusable component with a patch, or a KRM function.",
               "Under consideration; needs more use cases."],
              ["Suggest components or KRM functions",
               "Discuss in SIG CLI"],
              ["area/transformers"],
              x=["set resource requests on all containers", "add a common sidecar", "set the same securityContext everywhere"]),
        ],
        "question": [
            T("How to change the image tag in {kind} initContainers?",
              "The `images` transformer updates containers in our {kind} but not the init container that uses the same image. "
              "Is there a way to update both? "
              "kustomize {ver}.",
              ["The images transformer covers initContainers by default; the image name in the kustomization did not match the registry prefix used in the initContainer.",
               "Answered: match the full image name including registry."],
              ["Ask for the kustomization",
               "Explain image name matching"],
              ["area/images"],
              kind=["Deployment", "StatefulSet", "CronJob"]),
            T("How to keep a stable name for ConfigMap {cm} across overlays?",
              "Our `configMapGenerator` for `{cm}` appends a hash suffix, and an external tool references the ConfigMap by its plain name. "
              "How can we disable the hash for this one generator but keep it elsewhere? "
              "kustomize {ver}.",
              ["Set `options.disableNameSuffixHash: true` on that generator only.",
               "Answered: per-generator options override `generatorOptions`."],
              ["Point to the generator options docs",
               "Show a per-generator `options` example"],
              ["area/generators"],
              cm=["app-config", "feature-flags", "nginx-conf"]),
            T("How do I patch a list item by name with {method}?",
              "I need to change the `env` of container `app` in a Deployment that has three containers. "
              "With {method} I either replace the whole list or hit the wrong index. "
              "What is the right way?",
              ["Strategic merge patches merge containers by `name`, so a patch with only that container and its env works; JSON 6902 requires an index.",
               "Answered with examples for strategic merge and replacements."],
              ["Explain merge keys",
               "Show a strategic merge patch example"],
              ["area/patches"],
              method=["a strategic merge patch", "a JSON 6902 patch", "replacements"]),
            T("Should I use resources or components for {use}?",
              "We are restructuring our GitOps repository and are unsure whether {use} should be a component or a regular resource base. "
              "The docs say components are for optional features. "
              "What are the trade-offs?",
              ["Components fit optional, mixable features applied to an existing set of resources; bases are standalone. For {use}, a component is the better fit.",
               "Answered with the components docs and an example layout."],
              ["Link the components docs",
               "Show an example layout"],
              ["area/components"],
              use=["enabling TLS", "adding monitoring sidecars", "environment-specific ingress"]),
        ],
    },
)

REPOS["open-policy-agent/gatekeeper"] = dict(
    timeline=[("2022-12-12", "3.11"), ("2023-04-11", "3.12"), ("2023-08-15", "3.13"), ("2023-11-20", "3.14"),
              ("2024-02-14", "3.15"), ("2024-05-22", "3.16"), ("2024-08-27", "3.17"), ("2024-12-10", "3.18"),
              ("2025-04-08", "3.19")],
    prefix="v", numbers=(2480, 3950),
    type_labels={"bug": "bug", "feature": "enhancement", "question": "question"},
    extra_labels={"bug": ["triage/needs-info"], "feature": ["good first issue", "triage/needs-info"],
                  "question": []},
    templates={
        "bug": [
            T("Audit reports violations for {ct} that admission allows",
              "Audit lists {n} violations for constraint `{ct}` in `{ns}`, but creating the same objects through the API is allowed. "
              "The constraint has `enforcementAction: deny`. "
              "Gatekeeper {ver}.",
              ["The objects were created before the constraint existed; audit reports existing resources while admission only checks new requests. Working as intended.",
               "The ValidatingWebhookConfiguration excluded the namespace with a label selector; audit has no such exclusion. Documented the difference."],
              ["Compare webhook namespaceSelector with the Config exclusions",
               "Check creation timestamps",
               "Document audit versus admission behaviour"],
              ["audit"],
              ct=["k8srequiredlabels-team", "k8sallowedrepos", "k8spspprivileged"], n=["12", "37", "140"]),
            T("Mutation: Assign to {path} not applied to {kind} created by a controller",
              "An `Assign` mutator sets `{path}` on {kind} objects, and it works for resources applied with kubectl. "
              "Pods created by the `{app}` ReplicaSet do not get the mutation. "
              "Gatekeeper {ver}.",
              ["The mutation webhook was configured with `failurePolicy: Ignore` and timed out under load; increasing replicas and timeout fixed it.",
               "The match block used `namespaces` while the controller-created objects were in another namespace; fixed the match."],
              ["Check the mutating webhook metrics",
               "Verify the match criteria",
               "Test with `gator expand`"],
              ["mutation"],
              path=["spec.containers[name:*].imagePullPolicy", "metadata.labels.owner", "spec.securityContext.runAsNonRoot"],
              kind=["Pod", "Deployment"]),
            T("controller-manager crashloops with {err}",
              "After upgrading Gatekeeper to {ver}, the controller-manager pods crashloop and log `{err}`. "
              "Admission requests time out and, with `failurePolicy: Fail`, deployments in the cluster are blocked. "
              "Kubernetes {k8s}.",
              ["A stale CRD version from a previous install conflicted; reinstalling the CRDs fixed it.",
               "A nil map in the constraint status reconciler caused the panic; fixed in {fix}."],
              ["Collect the panic stack trace",
               "Check CRD versions",
               "Reproduce on a kind cluster"],
              ["controller"],
              err=["panic: assignment to entry in nil map", "failed to create watch for constrainttemplates: the server could not find the requested resource",
                   "error syncing constraint status: context deadline exceeded"]),
            T("ConstraintTemplate using {lib} fails to compile",
              "A ConstraintTemplate that uses {lib} fails with a Rego compile error in the template status. "
              "The same policy evaluates fine in `opa eval`. "
              "Gatekeeper {ver}.",
              ["Gatekeeper's Rego target restricts some imports; use `libs` in the template and the supported import path. Documented in the ConstraintTemplate docs.",
               "Fixed in {fix} by updating the embedded OPA version."],
              ["Reproduce with gator test",
               "Compare OPA versions",
               "Update docs"],
              ["constraint-template"],
              lib=["`import future.keywords.in`", "`import rego.v1`", "a shared library package"]),
        ],
        "feature": [
            T("gator: support {x}",
              "We test our policies in CI with `gator verify`. "
              "It would be great if gator supported {x}. "
              "That would catch more mistakes before they reach the cluster.",
              ["Implemented in {next}.",
               "Accepted; tracked for the next release."],
              ["Review the gator test suite design",
               "Implement and document"],
              ["gator"],
              x=["testing mutation policies", "reading constraints from an OCI bundle", "JUnit XML output"]),
            T("Expose {metric} metric",
              "For SLOs on our admission path we need {mdesc}. "
              "The current metrics do not expose this. "
              "Could Gatekeeper add `{metric}`?",
              ["Added in {next}.",
               "Accepted; added to the metrics docs."],
              ["Check cardinality",
               "Review the PR"],
              ["metrics"],
              metric__mdesc=[("gatekeeper_constraint_evaluation_duration_seconds", "per-constraint evaluation latency"),
                             ("gatekeeper_audit_kind_duration_seconds", "audit run duration per kind"),
                             ("gatekeeper_mutator_ingestion_count", "mutator ingestion failures")]),
            T("Generate ValidatingAdmissionPolicy from {x}",
              "Kubernetes {k8s} supports ValidatingAdmissionPolicy and we want to move simple checks off the webhook. "
              "It would be great if Gatekeeper could generate VAP objects from {x}. "
              "This would reduce webhook latency for common policies.",
              ["Implemented behind a flag in Gatekeeper {next} for templates using the CEL engine.",
               "Accepted; part of the VAP integration roadmap."],
              ["Link the VAP integration design",
               "Implement for the CEL engine"],
              ["vap"],
              x=["ConstraintTemplates with CEL code", "the library policies", "constraints with simple match rules"],
              since="2024-01-01"),
            T("External data: support {x}",
              "We use an external data provider to check image signatures. "
              "We need {x}. "
              "Today we work around it in the provider itself.",
              ["Implemented in {next}.",
               "Accepted; tracked in the external data roadmap."],
              ["Discuss in the community call",
               "Design the API change"],
              ["external-data"],
              x=["response caching with a configurable TTL", "mTLS between Gatekeeper and the provider", "batching keys per request"]),
        ],
        "question": [
            T("How to exempt namespace {ns2} from all constraints?",
              "We want system namespaces such as `{ns2}` never to be evaluated by Gatekeeper. "
              "Should this be in each constraint's match, in the Config resource, or in the webhook? "
              "Gatekeeper {ver}.",
              ["Use the `Config` resource `spec.match` with `excludedNamespaces` and processes `[\"*\"]`, and label the namespace `admission.gatekeeper.sh/ignore` to skip the webhook.",
               "Answered with the exempting namespaces docs."],
              ["Point to the exempt namespaces docs",
               "Explain Config exclusions versus the webhook namespace label"],
              ["docs"],
              ns2=["kube-system", "istio-system", "gatekeeper-system"]),
            T("How to write a ConstraintTemplate that requires the {label} label?",
              "We need every Namespace and Deployment to carry a `{label}` label. "
              "Is there a library template, or do I need to write Rego? "
              "An example would help.",
              ["Use the `k8srequiredlabels` template from the Gatekeeper library with `parameters.labels` set to `- key: {label}`.",
               "Answered with the library template and a CEL alternative."],
              ["Point to the policy library",
               "Show a constraint example"],
              ["docs"],
              label=["owner", "cost-center", "team"]),
            T("How to roll out {n} new constraints without blocking deployments?",
              "We want to introduce {n} new constraints to a busy cluster. "
              "How can we see what would be denied without actually denying anything? "
              "Gatekeeper {ver}.",
              ["Set `enforcementAction: dryrun` (or `warn`) and review audit results in the constraint status before switching to `deny`.",
               "Answered: use `warn` to surface warnings to users, then `deny`."],
              ["Explain enforcement actions",
               "Show how to read audit results"],
              ["docs"],
              n=["5", "12", "30"]),
            T("Why does audit not see {kind} resources?",
              "Our constraint matches {kind}, but audit reports zero violations even though violating objects exist. "
              "Admission denies new ones correctly. "
              "What configuration am I missing?",
              ["With `--audit-from-cache=true`, resources must be listed in the Config `sync` section; add {kind} there or disable audit-from-cache.",
               "Answered: add the kind to the sync set so it is cached."],
              ["Check audit flags",
               "Review the sync configuration"],
              ["audit"],
              kind=["Ingress", "Service", "PersistentVolumeClaim"]),
        ],
    },
)

REPOS["crossplane/crossplane"] = dict(
    timeline=[("2022-11-01", "1.10"), ("2023-01-31", "1.11"), ("2023-04-25", "1.12"), ("2023-07-27", "1.13"),
              ("2023-11-01", "1.14"), ("2024-02-15", "1.15"), ("2024-05-16", "1.16"), ("2024-08-29", "1.17"),
              ("2024-11-12", "1.18"), ("2025-02-18", "1.19"), ("2025-05-21", "1.20")],
    prefix="v", numbers=(3500, 6550),
    type_labels={"bug": "bug", "feature": "enhancement", "question": "question"},
    extra_labels={"bug": ["needs:triage"], "feature": ["needs:triage", "roadmap"], "question": []},
    templates={
        "bug": [
            T("Composite {xr} stuck Synced=False with {err}",
              "Our composite resource `{xr}` stays `Synced=False` with the message `{err}`. "
              "The Composition uses a function pipeline and Crossplane {ver}. "
              "Deleting and recreating the XR works once, then the error comes back.",
              ["The composed resource had an immutable field changed by a patch; the error is expected from the provider and the Composition was fixed.",
               "A timeout in the function runner was too low for a slow function; the default was raised in {fix}."],
              ["Run `crossplane beta trace`",
               "Check the function pod logs",
               "Reproduce with `crossplane beta render`"],
              ["composition"],
              xr=["xpostgresqlinstances.db.acme.io", "xnetworks.platform.acme.io", "xbuckets.storage.acme.io"],
              err=["cannot apply composed resource: field is immutable", "cannot run Composition pipeline step: rpc error: code = DeadlineExceeded",
                   "cannot compose resources: observed resource has no external name"]),
            T("Provider {prov} revision never becomes healthy on {ver}",
              "After installing `{prov}` on Crossplane {ver}, the ProviderRevision stays `Healthy=False` with `cannot establish control of object: customresourcedefinitions already controlled by another revision`. "
              "The previous revision was deleted manually. "
              "Kubernetes {k8s}.",
              ["Ownership references on the CRDs still pointed at the deleted revision; removing them let the new revision take control. The package manager now handles this since {fix}.",
               "Fixed in {fix}: the package manager transfers CRD ownership when the old revision is gone."],
              ["Inspect CRD owner references",
               "Check package manager logs",
               "Reproduce with a manual revision deletion"],
              ["package-manager"],
              prov=["provider-aws-s3", "provider-kubernetes", "provider-helm", "provider-gcp-storage"]),
            T("Deleting claim {claim} leaves managed resources orphaned",
              "Deleting the claim `{claim}` in `{ns}` removes the composite resource, but the managed resources remain in the cluster and in the cloud. "
              "`deletionPolicy` is `Delete` on all managed resources. "
              "Crossplane {ver}.",
              ["The composite used `compositeDeletePolicy: Background` and the provider was not running, so deletion was never processed. Restarting the provider finished it.",
               "Confirmed a race with foreground deletion; fixed in {fix}."],
              ["Check owner references on managed resources",
               "Inspect provider health",
               "Reproduce with foreground deletion"],
              ["claims"],
              claim=["orders-db", "team-a-bucket", "analytics-cluster"]),
            T("crossplane beta render output differs from cluster with {fn}",
              "`crossplane beta render xr.yaml composition.yaml functions.yaml` shows the expected composed resources, but the cluster creates different ones using {fn}. "
              "We use Crossplane {ver}. "
              "The function version is pinned in both cases.",
              ["The cluster used EnvironmentConfigs that were not passed to render; use `--extra-resources` to include them.",
               "Fixed in {fix}: render now passes the same context as the cluster."],
              ["Compare render inputs and cluster inputs",
               "Check EnvironmentConfig selection",
               "Document render flags"],
              ["functions"],
              fn=["function-patch-and-transform", "function-go-templating", "function-kcl"],
              since="2023-11-01"),
        ],
        "feature": [
            T("Composition Functions: support {x}",
              "We write our compositions as functions and would like {x}. "
              "This would remove workarounds in our function code. "
              "Other users in Slack asked for the same.",
              ["Implemented in Crossplane {next}.",
               "Accepted; part of the functions roadmap."],
              ["Write a design doc",
               "Discuss in the community meeting"],
              ["functions"],
              x=["emitting Kubernetes events from a function", "requesting extra resources by label selector", "a per-step timeout"]),
            T("crossplane CLI: add {cmd}",
              "When debugging compositions we often need {purpose}. "
              "A `crossplane {cmd}` command would help. "
              "It could reuse the existing render logic.",
              ["Implemented as a beta command in {next}.",
               "Accepted; tracked in the CLI roadmap."],
              ["Review CLI design",
               "Implement under beta"],
              ["cli"],
              cmd__purpose=[("beta validate", "to validate resources against provider schemas offline"),
                            ("beta trace -o json", "to get trace output in a machine-readable format"),
                            ("beta top", "to see resource usage of provider pods")]),
            T("XRD: allow {x}",
              "Our platform API is defined with CompositeResourceDefinitions. "
              "We would like {x}. "
              "This would push validation to the API server instead of our functions.",
              ["Implemented in {next}.",
               "Accepted; tracked in the XRD roadmap."],
              ["Check API server support",
               "Design the XRD change"],
              ["xrd"],
              x=["CEL validation rules on composite fields", "defaults from an EnvironmentConfig", "printer columns for connection details"]),
            T("Package pulls: support {x}",
              "Our clusters pull packages from xpkg.upbound.io through a corporate proxy. "
              "We need {x}. "
              "Today every package manifest has to be rewritten in our pipeline.",
              ["Implemented via the ImageConfig API in Crossplane {next}.",
               "Accepted; covered by the ImageConfig API."],
              ["Link the ImageConfig design",
               "Implement and document"],
              ["package-manager"],
              x=["registry mirrors", "image pull secrets per registry", "signature verification"],
              since="2024-06-01"),
        ],
        "question": [
            T("How to pass {x} from the claim to a composed resource?",
              "Our claim `{claim}` has {x} that must end up on the composed managed resource. "
              "I tried a `FromCompositeFieldPath` patch but the value is empty. "
              "What is the right way with Crossplane {ver}?",
              ["Claim fields are copied to the composite only when part of the XRD schema; use `spec.claimRef.namespace` for the namespace and patch from the composite.",
               "Answered: add the field to the XRD schema, then patch from the composite field path."],
              ["Explain claim-to-XR propagation",
               "Show a patch example"],
              ["composition"],
              x=["the claim namespace", "custom labels", "a connection secret key"],
              claim=["orders-db", "team-a-bucket", "analytics-cluster"]),
            T("How to debug a Composition that creates no resources with {fn}?",
              "Our XR becomes Ready but no managed resources are created. "
              "The Composition uses {fn} and no errors are shown. "
              "How can I debug this?",
              ["Use `crossplane beta render` locally with the same inputs; most often a template condition evaluates to false. `crossplane beta trace` shows the XR tree in the cluster.",
               "Answered with the render and trace workflow."],
              ["Explain render and trace",
               "Ask for the Composition"],
              ["functions"],
              fn=["function-patch-and-transform", "function-go-templating", "function-kcl"]),
            T("What is the upgrade path from {prevminor} to {minor} with providers installed?",
              "We run Crossplane {prev} with several family providers. "
              "Can we upgrade directly to {ver}, and do providers need to be upgraded first? "
              "Is there a recommended order?",
              ["Upgrade Crossplane one minor at a time with Helm; providers are independent but check their minimum Crossplane version.",
               "Answered with the upgrade docs."],
              ["Link the upgrade docs",
               "Explain provider compatibility"],
              ["docs"]),
            T("Should I use EnvironmentConfigs or {x} for per-region settings?",
              "We deploy the same composition to several regions and need region-specific values like VPC IDs. "
              "Should we use EnvironmentConfigs, or {x}? "
              "What are the trade-offs?",
              ["EnvironmentConfigs are designed for this and can be selected by labels; {x} works but couples the configuration to each claim.",
               "Answered with the EnvironmentConfigs docs and an example."],
              ["Explain EnvironmentConfigs",
               "Share an example"],
              ["composition"],
              x=["claim parameters", "separate compositions per region", "a function reading a ConfigMap"]),
        ],
    },
)

# --------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------
SLOT_RE = re.compile(r"(?<!\{)\{([a-z][a-z0-9_]*)\}(?!\})")


def fill(text, values):
    def repl(m):
        key = m.group(1)
        if key not in values:
            raise KeyError("unknown slot {%s} in %r" % (key, text[:60]))
        return values[key]
    # Only {identifier} is a slot; any other brace (HCL, YAML, Helm/Go templates,
    # PromQL matchers) is literal text.
    return SLOT_RE.sub(repl, text)


def bump_minor(minor):
    major, mi = minor.split(".")
    return "%s.%d" % (major, int(mi) + 1)


def versions_for(repo, when, rng):
    """Return (ver, prev, fix, next, minor, prevminor) plausible for `when`."""
    spec = REPOS[repo]
    prefix = spec["prefix"]
    if "interp" in spec:  # terraform-provider-aws: many minors, interpolated by date
        pts = spec["interp"]
        major, minor = pts[0][1], pts[0][2]
        for (d0, ma0, mi0), (d1, ma1, mi1) in zip(pts, pts[1:]):
            t0, t1 = parse_date(d0), parse_date(d1)
            if t0 <= when < t1:
                if ma0 == ma1:
                    frac = (when - t0).total_seconds() / (t1 - t0).total_seconds()
                    major, minor = ma0, mi0 + int(frac * (mi1 - mi0))
                else:
                    major, minor = ma0, mi0
                break
            if when >= t1:
                major, minor = ma1, mi1
        minor = max(0, minor - rng.choice([0, 0, 1, 2]))
        patch = rng.choice([0, 0, 0, 1])
        ver = "%s%d.%d.%d" % (prefix, major, minor, patch)
        prev = "%s%d.%d.0" % (prefix, major, max(0, minor - rng.randint(2, 8)))
        fix = "%s%d.%d.0" % (prefix, major, minor + 1)
        nxt = "%s%d.%d.0" % (prefix, major, minor + rng.randint(1, 3))
        return ver, prev, fix, nxt, "%d.%d" % (major, minor), "%d.%d" % (major, max(0, minor - 1))
    tl = spec["timeline"]
    idx = max(i for i, (d, _) in enumerate(tl) if parse_date(d) <= when)
    if idx > 0 and rng.random() < 0.3:
        idx -= 1
    rel = parse_date(tl[idx][0])
    months = max(0, int((when - rel).days / 30))
    patch = rng.randint(0, min(spec.get("patch_max", 8), months + 1))
    minor = tl[idx][1]
    prevminor = tl[idx - 1][1] if idx > 0 else minor
    ver = "%s%s.%d" % (prefix, minor, patch)
    prev = "%s%s.%d" % (prefix, prevminor, rng.randint(0, 4))
    fix = "%s%s.%d" % (prefix, minor, patch + rng.randint(1, 2))
    nxt_minor = tl[idx + 1][1] if idx + 1 < len(tl) else bump_minor(minor)
    nxt = "%s%s.0" % (prefix, nxt_minor)
    return ver, prev, fix, nxt, minor, prevminor


def k8s_for(when, rng):
    idx = max(i for i, (d, _) in enumerate(K8S_TIMELINE) if parse_date(d) <= when)
    idx = max(0, idx - rng.choice([0, 0, 1, 1, 2]))
    minor = K8S_TIMELINE[idx][1]
    return minor, "v%s.%d" % (minor, rng.randint(1, 9))


def pick_slots(tmpl, rng, usage):
    """Pick one value per slot, preferring values this template used least."""
    values = {}
    for key, options in sorted(tmpl["slots"].items()):
        counts = [usage[(tmpl["title"], key, i)] for i in range(len(options))]
        least = [i for i, c in enumerate(counts) if c == min(counts)]
        i = rng.choice(least)
        usage[(tmpl["title"], key, i)] += 1
        choice = options[i]
        if "__" in key:
            names = key.split("__")
            if len(names) != len(choice):
                raise ValueError("paired slot %s arity mismatch" % key)
            values.update(zip(names, choice))
        else:
            values[key] = choice
    return values


def random_time(rng, start=START):
    span = int((END - start).total_seconds())
    return start + dt.timedelta(seconds=rng.randint(0, span))


def build_record(repo, itype, tmpl, when, rng, usage):
    values = {k: rng.choice(v) for k, v in sorted(GLOBAL_SLOTS.items())}
    ver, prev, fix, nxt, minor, prevminor = versions_for(repo, when, rng)
    k8s, k8sv = k8s_for(when, rng)
    values.update(ver=ver, prev=prev, fix=fix, next=nxt, minor=minor, prevminor=prevminor, k8s=k8s, k8sv=k8sv)
    if repo == "kubernetes/kubernetes":
        values["k8s"] = minor
    picked = pick_slots(tmpl, rng, usage)
    # Slot values may themselves refer to the shared slots ({fix}, {ver}, ...).
    values.update({k: fill(v, values) for k, v in picked.items()})

    title = fill(tmpl["title"], values)
    desc = fill(tmpl["desc"], values)
    tail = rng.choice(GENERIC_TAILS[itype])
    if tail:
        desc = desc + " " + tail
    resolution = fill(rng.choice(tmpl["res"]), values)

    steps = [fill(s, values) for s in tmpl["steps"]]
    if len(steps) < 6 and rng.random() < 0.25:
        steps.insert(0, rng.choice(GENERIC_FIRST_STEPS[itype]))
    if len(steps) < 6 and rng.random() < 0.35:
        last = rng.choice(GENERIC_LAST_STEPS[itype])
        if last not in steps:
            steps.append(last)

    spec = REPOS[repo]
    labels = []
    if rng.random() < 0.9:
        labels.append(spec["type_labels"][itype])
    labels.extend(tmpl["labels"])
    extras = spec["extra_labels"].get(itype) or []
    if extras and rng.random() < 0.35:
        labels.append(rng.choice(extras))
    labels = list(dict.fromkeys(labels))  # de-duplicate, keep order

    return {
        "repository": repo,
        "issue_number": None,  # assigned later, monotonic in time per repository
        "issue_title": title,
        "issue_description": desc,
        "issue_type": itype,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": labels,
        "url": None,
        "resolution": resolution,
        "trajectory": steps,
    }


def generate(seed=DEFAULT_SEED):
    rng = random.Random(seed)
    records = []
    for repo in sorted(REPOS):
        spec = REPOS[repo]
        repo_records = []
        seen_titles = set()
        usage = collections.Counter()
        for itype in TYPES:
            templates = spec["templates"][itype]
            count = rng.choice([8, 9, 9, 10])
            # Spread uses evenly over templates, then shuffle.
            order = [templates[i % len(templates)] for i in range(count)]
            rng.shuffle(order)
            for tmpl in order:
                for _attempt in range(50):
                    rec = build_record(repo, itype, tmpl, random_time(rng, tmpl["since"]), rng, usage)
                    if rec["issue_title"] not in seen_titles:
                        break
                    tmpl = rng.choice(templates)
                else:
                    raise RuntimeError("could not find a unique title for %s/%s" % (repo, itype))
                seen_titles.add(rec["issue_title"])
                repo_records.append(rec)
        # Issue numbers grow with time inside each repository.
        lo, hi = spec["numbers"]
        total = (END - START).total_seconds()
        last = 0
        for rec in sorted(repo_records, key=lambda r: r["created_at"]):
            when = dt.datetime.strptime(rec["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
            frac = (when - START).total_seconds() / total
            n = int(lo + frac * (hi - lo)) + rng.randint(0, max(1, (hi - lo) // 400))
            n = max(n, last + 1)  # unique and increasing with time
            last = n
            rec["issue_number"] = n
            rec["url"] = "https://github.com/%s/issues/%d" % (repo, n)
        records.extend(repo_records)
    records.sort(key=lambda r: (r["created_at"], r["repository"]))
    return records


def stats(records):
    by_type = collections.Counter(r["issue_type"] for r in records)
    by_repo = collections.defaultdict(collections.Counter)
    for r in records:
        by_repo[r["repository"]][r["issue_type"]] += 1
    lines = ["| repository | bug | feature | question | total |", "|---|---:|---:|---:|---:|"]
    for repo in sorted(by_repo):
        c = by_repo[repo]
        lines.append("| %s | %d | %d | %d | %d |" % (repo, c["bug"], c["feature"], c["question"], sum(c.values())))
    lines.append("| **total** | %d | %d | %d | %d |" % (by_type["bug"], by_type["feature"], by_type["question"], len(records)))
    return "\n".join(lines)


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out-dir", default=here)
    ap.add_argument("--stats", action="store_true", help="print counts per type and repository")
    args = ap.parse_args(argv)

    records = generate(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    jsonl_path = os.path.join(args.out_dir, "gitops-issues.jsonl")
    json_path = os.path.join(args.out_dir, "gitops-issues.json")
    with open(jsonl_path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(json_path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(records, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print("wrote %d records to %s and %s" % (len(records), jsonl_path, json_path))
    if args.stats:
        print(stats(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
