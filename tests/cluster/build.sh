#!/usr/bin/env bash
# Builds the test control plane: kube-apiserver, kube-controller-manager, kubectl and the launcher
# (module tests/cluster) and helm (module tests/cluster/helm) into target/cluster/<key>/, where
# <key> hashes the Go version, this script, both go.mod/go.sum pairs and the launcher sources,
# and points target/cluster/bin at that set.
#
# Idempotent: when target/cluster/<key>/ already exists it only refreshes the bin link (instant);
# a binary whose own inputs did not change is reused from the current set.
# A cold build on 2 cores takes 10-15 minutes and prints progress as it goes.
# Non-interactive; safe to run concurrently (a lock serializes builds).
#
# Usage: bash tests/cluster/build.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# Kubernetes v1.37.2 declares `go 1.26.0`, so the machine's Go 1.26 toolchain is used as is.
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false -mod=readonly"

command -v go >/dev/null || {
	echo "build.sh: the go command is not on PATH (need Go >= 1.26)" >&2
	exit 1
}
target=$repo/target
if [[ ${CARGO_TARGET_DIR:-} == /* ]]; then target=$CARGO_TARGET_DIR; fi
out_root=$target/cluster
mkdir -p "$out_root"

# One key per component, so editing the launcher does not relink kube-apiserver.
cd "$here"
component_key() { { go env GOVERSION GOOS GOARCH && cat build.sh "$@"; } | sha256sum | cut -c1-16; }
kube_key=$(component_key go.mod go.sum)
launcher_key=$(component_key go.mod go.sum launcher/*.go)
helm_key=$(component_key helm/go.mod helm/go.sum)
key=$(echo "$kube_key $launcher_key $helm_key" | sha256sum | cut -c1-16)
out=$out_root/$key

link_bin() {
	ln -sfn "$key" "$out_root/.bin.tmp"
	mv -T "$out_root/.bin.tmp" "$out_root/bin"
}

exec 9>"$out_root/.build.lock"
flock 9
if [[ -x $out/kube-apiserver && -x $out/kube-controller-manager && -x $out/kubectl && -x $out/launcher &&
	-x $out/helm ]]; then
	link_bin
	echo "build.sh: cluster binaries up to date in $out_root/bin ($(tr '\n' ' ' <"$out/VERSIONS"))"
	exit 0
fi

started=$SECONDS
elapsed() { printf '%dm%02ds' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)); }

# reuse COMPONENT KEY BINARY... hard-links binaries from the current set if built from the same
# inputs; fails (so the caller builds) otherwise.
reuse() {
	local component=$1 component_key=$2 previous=$out_root/bin
	shift 2
	grep -qx "$component=$component_key" "$previous/KEYS" 2>/dev/null || return 1
	for binary in "$@"; do cp -l "$previous/$binary" "$stage/" 2>/dev/null || cp "$previous/$binary" "$stage/" || return 1; done
	echo "build.sh: $component unchanged, reusing $*"
}

# go_build LABEL MODULE_DIR LDFLAGS PACKAGE... builds into $stage, printing progress every 10%.
go_build() {
	local label=$1 dir=$2 ldflags=$3
	shift 3
	local total n=0 next=10
	total=$(cd "$dir" && go list -deps "$@" | wc -l) || return
	((total > 0)) || total=1
	echo "build.sh: building $label (up to $total packages; cold build on 2 cores takes minutes)"
	(cd "$dir" && go build -trimpath -v -ldflags "$ldflags" -o "$stage/" "$@") 2>&1 |
		while IFS= read -r line; do
			if [[ $line =~ ^[[:alnum:]._~/-]+$ ]]; then
				n=$((n + 1))
				if ((n * 100 >= next * total)); then
					echo "build.sh:   $label: $n/$total packages compiled ($(elapsed))"
					next=$(((n * 100 / total) / 10 * 10 + 10))
				fi
			else
				printf '%s\n' "$line"
			fi
		done
}

version_ldflags() { # PACKAGE VERSION
	local v=$2 major minor
	major=${v#v}
	major=${major%%.*}
	minor=${v#v*.}
	minor=${minor%%.*}
	printf -- '-X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
		"$1" "$v" "$1" "$major" "$1" "$minor" "$1"
}

echo "build.sh: downloading Go modules (first run only)"
(cd "$here" && go mod download)
(cd "$here/helm" && go mod download)
kube_version=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$here" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
helm_version=$(cd "$here/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
helm_k8s=$(cd "$here/helm" && go list -m -f '{{.Version}}' k8s.io/client-go) # v0.37.0
helm_k8s_minor=${helm_k8s#v0.}
helm_k8s_minor=${helm_k8s_minor%%.*}

stage=$(mktemp -d "$out_root/.stage-XXXXXX")
trap 'rm -rf "$stage"' EXIT

kube_ldflags="-s -w $(version_ldflags k8s.io/component-base/version "$kube_version")"
kube_ldflags+=$(version_ldflags k8s.io/client-go/pkg/version "$kube_version")
reuse kube "$kube_key" kube-apiserver kube-controller-manager kubectl ||
	go_build "kube-apiserver, kube-controller-manager, kubectl ($kube_version)" "$here" "$kube_ldflags" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kubectl
reuse launcher "$launcher_key" launcher ||
	go_build "launcher (etcd $etcd_version)" "$here" "-s -w" ./launcher

helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
	helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_k8s_minor"
done
reuse helm "$helm_key" helm ||
	go_build "helm ($helm_version)" "$here/helm" "$helm_ldflags" helm.sh/helm/v3/cmd/helm

printf 'kubernetes=%s\netcd=%s\nhelm=%s\n' "$kube_version" "$etcd_version" "$helm_version" >"$stage/VERSIONS"
printf 'kube=%s\nlauncher=%s\nhelm=%s\n' "$kube_key" "$launcher_key" "$helm_key" >"$stage/KEYS"
chmod 755 "$stage"
rm -rf "$out"
mv -T "$stage" "$out"
previous=$(readlink "$out_root/bin" || true)
link_bin
# Keep the disk tidy: drop older sets, but keep the one just replaced, whose binaries a test that
# started a moment ago may still be launching.
for set in "$out_root"/*; do
	name=${set##*/}
	if [[ -d $set && ! -L $set && $name =~ ^[0-9a-f]{16}$ && $name != "$key" && $name != "$previous" ]]; then
		rm -rf "$set"
	fi
done
echo "build.sh: built in $(elapsed): $out_root/bin -> $key ($kube_version, etcd $etcd_version, helm $helm_version)"
