#!/usr/bin/env python3
"""Assembles tests/rules/real from snapshots fetched into /work/.mirror.

Every file is copied byte for byte from a repository's HEAD; SOURCES lists
repo, commit, path there and path here. Three files (kubernetes-mixin's
rendered alerts and rules, etcd's rendered alerts, from monitoring-mixins/
website) are placed under the directory of the repository whose unit tests
read them, under the name those tests expect, because that repository does
not commit its rendered rules (the SOURCES line names the repository the
bytes come from); one file is derived
(OpenShift's rules.yaml, built as its hack/find-rules.sh builds it), marked
`derived` in SOURCES.

Run from the repository root: python3 tests/rules/real/assemble.py
"""
import yaml  # PyYAML
import os
import subprocess
import sys

MIRROR = "/work/.mirror"
HERE = os.path.dirname(os.path.abspath(__file__))


def git(repo, *args):
    gitdir = f"{MIRROR}/{repo.replace('/', '+')}/repo"
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True,
                          capture_output=True).stdout


def head(repo):
    return git(repo, "rev-parse", "HEAD").decode().strip()


def ls(repo, under=""):
    out = git(repo, "ls-tree", "-r", "-l", "HEAD", *([under] if under else []))
    rows = []
    for line in out.decode().splitlines():
        meta, path = line.split("\t", 1)
        rows.append((path, int(meta.split()[3])))
    return rows


entries = []  # (kind, repo, commit, src, dest)


def take(kind, repo, src, dest=None, dest_repo=None):
    dest = dest or src
    here = f"{(dest_repo or repo).replace('/', '+')}/{dest}"
    data = git(repo, "show", f"HEAD:{src}")
    path = os.path.join(HERE, here)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    entries.append((kind, repo, head(repo), src, here))


def licence(repo, src="LICENSE"):
    path = os.path.join(HERE, repo.replace("/", "+"), "LICENSE")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(git(repo, "show", f"HEAD:{src}"))


# samber/awesome-prometheus-alerts: every rendered rule file (CC BY 4.0).
repo = "samber/awesome-prometheus-alerts"
licence(repo)
for path, _ in ls(repo, "dist/rules"):
    if path.endswith((".yml", ".yaml")):
        take("rules", repo, path)

# grafana/jsonnet-libs: every rendered mixin output with rules in it, and
# the first three empty ones (`groups: []` and the like).
repo = "grafana/jsonnet-libs"
licence(repo)
empty = 0
for path, size in ls(repo):
    if "/prometheus_rules_out/" in path and path.endswith(".yaml"):
        if size > 30:
            take("rules", repo, path)
        elif empty < 3:
            take("rules", repo, path)
            empty += 1
take("test", repo, "windows-observ-lib/tests/prometheus_alerts_test.yaml")

# monitoring-mixins/website: upstream mixins rendered with default config.
repo = "monitoring-mixins/website"
licence(repo)
for mixin in ["alertmanager", "prometheus", "node-exporter", "kube-state-metrics",
              "prometheus-operator", "thanos", "loki", "cortex", "coredns", "ceph",
              "cert-manager", "istio", "vault", "consul", "elasticsearch", "mysql",
              "postgres-exporter", "redis", "rabbitmq", "memcached",
              "kubernetes-autoscaling", "promtail", "jaeger", "velero", "traefik"]:
    for name in ["alerts.yaml", "rules.yaml"]:
        src = f"assets/{mixin}/{name}"
        if any(p == src for p, _ in ls(repo, src)):
            take("rules", repo, src)
# ... and the two that other repositories' unit tests read.
take("rules", repo, "assets/kubernetes/alerts.yaml", "prometheus_alerts.yaml",
     "kubernetes-monitoring/kubernetes-mixin")
take("rules", repo, "assets/kubernetes/rules.yaml", "prometheus_rules.yaml",
     "kubernetes-monitoring/kubernetes-mixin")
take("rules", repo, "assets/etcd/alerts.yaml",
     "contrib/mixin/manifests/etcd-prometheusRules.yaml", "etcd-io/etcd")

repo = "kubernetes-monitoring/kubernetes-mixin"
licence(repo)
for path, _ in ls(repo, "tests"):
    take("test", repo, path)

repo = "etcd-io/etcd"
licence(repo)
take("test", repo, "contrib/mixin/test.yaml")

repo = "prometheus-operator/kube-prometheus"
licence(repo)
for path, _ in ls(repo, "manifests"):
    if path.endswith("-prometheusRule.yaml"):
        take("rules", repo, path)
take("rules", repo, "examples/existingrule.yaml")

repo = "openshift/cluster-monitoring-operator"
licence(repo)
groups = []
for path, _ in ls(repo, "assets"):
    if path.endswith(".yaml") and "prometheus-rule" in path:
        take("rules", repo, path)
for path, _ in ls(repo, "assets"):
    if path.endswith(".yaml"):
        text = git(repo, "show", f"HEAD:{path}")
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict) and doc.get("kind") == "PrometheusRule":
            groups.extend(doc["spec"]["groups"])
for path, _ in ls(repo, "test/rules"):
    if path.endswith(".yaml"):
        take("test", repo, path)
derived = "openshift+cluster-monitoring-operator/test/rules/rules.yaml"
yaml_text = yaml.safe_dump({"groups": groups}, sort_keys=False,
                           allow_unicode=True, width=1 << 20).encode()
with open(os.path.join(HERE, derived), "wb") as f:
    f.write(yaml_text)
entries.append(("rules", repo, head(repo), "derived: hack/find-rules.sh over assets/ (PyYAML for jq and gojsontoyaml)", derived))

repo = "prometheus-operator/prometheus-operator"
licence(repo)
for path in ["example/mixin/alerts.yaml", "example/thanos/prometheus-rule.yaml",
             "example/user-guides/alerting/prometheus-example-rules.yaml"]:
    take("rules", repo, path)

repo = "thanos-io/thanos"
licence(repo)
take("rules", repo, "examples/alerts/alerts.yaml")
take("rules", repo, "examples/alerts/rules.yaml")
take("test", repo, "examples/alerts/tests.yaml")

repo = "prometheus/node_exporter"
licence(repo)
for path in ["example-rules.yml", "docs/example-16-compatibility-rules.yml",
             "docs/example-16-compatibility-rules-new-to-old.yml",
             "docs/example-17-compatibility-rules.yml",
             "docs/example-17-compatibility-rules-new-to-old.yml"]:
    take("rules", repo, path)

# grafana/loki: only production/, which is Apache-2.0 (LICENSING.md); the
# rest of the repository is AGPL-3.0.
repo = "grafana/loki"
path = os.path.join(HERE, "grafana+loki", "LICENSE")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "wb") as f:
    f.write(b"production/ of grafana/loki is licensed under Apache-2.0 "
            b"(LICENSING.md there): https://www.apache.org/licenses/LICENSE-2.0\n"
            b"Only files under production/ are copied here.\n")
for path in ["production/docker/rules/docker/rules.yml",
             "production/loki-mixin-compiled/alerts.yaml",
             "production/loki-mixin-compiled/rules.yaml"]:
    take("rules", repo, path)

repo = "rook/rook"
licence(repo)
for path in ["deploy/charts/rook-ceph-cluster/prometheus/localrules.yaml",
             "deploy/charts/rook-ceph-cluster/prometheus/externalrules.yaml",
             "deploy/examples/monitoring/localrules.yaml",
             "deploy/examples/monitoring/externalrules.yaml"]:
    take("rules", repo, path)

with open(os.path.join(HERE, "SOURCES"), "w") as f:
    f.write("# kind\trepo\tcommit\tpath in repo\tpath here (under tests/rules/real)\n")
    for e in entries:
        f.write("\t".join(e) + "\n")
kinds = [e[0] for e in entries]
print(f"{kinds.count('rules')} rule files, {kinds.count('test')} unit-test files, "
      f"{len({e[1] for e in entries})} repositories", file=sys.stderr)
