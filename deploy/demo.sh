#!/usr/bin/env bash
# The local world in one command: a real Kubernetes control plane (built from Go modules),
# vpc-sim with the example world, the operator, and deploy/examples/; then `kubectl get vpcroutes`.
#
# Usage: bash deploy/demo.sh            # show the result, keep running until Ctrl-C
#        DEMO_EXIT=1 bash deploy/demo.sh  # show the result and tear everything down
# The first run builds the control plane (10-15 minutes on 2 cores); later runs take seconds.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work=$(mktemp -d "${TMPDIR:-/tmp}/vpcroute-demo.XXXXXX")
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n==> %s\n' "$*"; }

# wait_line FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN; prints it.
wait_line() {
	local file=$1 pattern=$2 deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		if line=$(grep -m1 -E "$pattern" "$file" 2>/dev/null); then
			printf '%s\n' "$line"
			return 0
		fi
		sleep 0.2
	done
	echo "demo: timed out waiting for '$pattern' in $file:" >&2
	tail -n 30 "$file" >&2
	return 1
}

say "Building the Kubernetes control plane (cached after the first run)"
bash tests/cluster/build.sh
bin=$repo/target/cluster/bin

say "Building vpcroute-operator and vpc-sim"
cargo build --workspace --bins

say "Starting kube-apiserver + etcd + kube-controller-manager"
mkfifo "$work/launcher.stdin"
"$bin/launcher" <"$work/launcher.stdin" >"$work/launcher.out" 2>"$work/launcher.err" &
pids+=($!)
exec 8>"$work/launcher.stdin" # held open: the launcher stops when this script exits
ready=$(wait_line "$work/launcher.out" '^READY ' 180)
kubeconfig=$(sed -E 's/.*kubeconfig=([^ ]+).*/\1/' <<<"$ready")
export KUBECONFIG=$kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
kubectl version | sed 's/^/    /'

say "Starting vpc-sim with deploy/world.yaml"
target/debug/vpc-sim --listen 127.0.0.1:0 --world deploy/world.yaml --ca-out "$work/sim-ca.pem" \
	>"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
base="$(wait_line "$work/sim.out" '^READY ' 30 | cut -d' ' -f2)"
api=${DEMO_API:-3.0} # the operator's default; DEMO_API=2.0 runs the demo on API 2.0
if [[ $api == 2.0 ]]; then endpoint="$base/v2/index.php"; else endpoint="$base/"; fi
echo "    $base (API 3.0 at /, API 2.0 at /v2/index.php); the operator uses API $api at $endpoint"

say "Installing the VpcRoute CRD and starting the operator"
kubectl apply --server-side -f crds/
kubectl wait --for=condition=Established crd/vpcroutes.vpc.qcloud.dev --timeout=60s
TENCENTCLOUD_SECRET_ID=AKIDdemoVpcSimPrimary0000000000000001 \
	TENCENTCLOUD_SECRET_KEY=demoKeyNotARealSecretPrimary0001 \
	target/debug/vpcroute-operator run --api "$api" --endpoint "$endpoint" --ca-file "$work/sim-ca.pem" \
	--region ap-guangzhou --http-addr 127.0.0.1:0 >"$work/operator.log" 2>&1 &
pids+=($!)

say "Applying deploy/examples/"
kubectl apply -f deploy/examples/
kubectl wait --for=condition=Ready vpcroute/seed-route --timeout=60s
for name in office-network partner-link; do
	kubectl wait --for=jsonpath='{.status.conditions[0].status}'=False "vpcroute/$name" --timeout=60s >/dev/null
done

say "kubectl get vpcroutes"
kubectl get vpcroutes
say "kubectl get vpcroutes -o wide (with messages)"
kubectl get vpcroutes -o wide
say "Routes vpc-sim holds in rtb-4ahe1qy2"
curl -s --cacert "$work/sim-ca.pem" "$base/_sim/state" |
	python3 -c 'import json,sys
for a in json.load(sys.stdin)["accounts"]:
  for region, r in a["regions"].items():
    for v in r["vpcs"]:
      for t in v["routeTables"]:
        if t["routeTableId"] == "rtb-4ahe1qy2":
          for rt in t["routes"]: print("   ", rt["destinationCidrBlock"], "->", rt["nextType"], rt["nextHub"], rt.get("routeItemId", ""))'

if [[ -n ${DEMO_EXIT:-} || ! -t 0 ]]; then
	say "Done; tearing down"
	exit 0
fi
say "Running. In another shell:  export KUBECONFIG=$kubeconfig; $bin/kubectl get vpcroutes"
echo "    operator log: $work/operator.log    vpc-sim: $base (CA $work/sim-ca.pem)"
echo "    Press Ctrl-C to stop everything."
wait "${pids[0]}"
