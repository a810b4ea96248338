#!/usr/bin/env bash
# Runs the sharded load on the current kubectl context: the shards' Job,
# then the merge Job; prints the merged summary and exits with the merged
# verdict (0 pass, 1 fail, 2 shards that do not fit, 3 aborted).
set -euo pipefail
cd "$(dirname "$0")"

# Waits until a Job succeeds (return 0) or fails (return 1).
wait_for() {
    local job=$1 deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        local conditions
        conditions=$(kubectl get "job/$job" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
        case " $conditions " in
            *" Complete "*) return 0 ;;
            *" Failed "*) return 1 ;;
        esac
        sleep 2
    done
    echo "timed out waiting for job/$job" >&2
    return 1
}

kubectl delete job slogate-shards slogate-merge --ignore-not-found --wait=true
kubectl apply -f slogate-shards.yaml
if ! wait_for slogate-shards 3600; then
    kubectl logs -l job-name=slogate-shards --prefix --tail=-1 || true
    echo "a shard failed (usage error or abort); see its log above" >&2
    exit 2
fi
kubectl apply -f slogate-merge.yaml
verdict=0
wait_for slogate-merge 600 || verdict=1
kubectl logs job/slogate-merge
exit "$verdict"
