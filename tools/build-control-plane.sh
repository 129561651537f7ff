#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kube-controller-manager, etcd) from Go modules, and kubeadm,
# which the tests use to validate the kubeadm configuration azk writes into node documents.
#
# Usage: tools/build-control-plane.sh [OUT_DIR]
#
# OUT_DIR defaults to .cache/kube-assets. The build is skipped when the binaries there already report the
# wanted versions, so running it again is cheap. Users with envtest-style binaries set KUBEBUILDER_ASSETS
# (or AZK_KUBE_ASSETS) instead and never need this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../.cache/kube-assets}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

module_version() { # module dir, module path: the version that module's go.mod selects
  (cd "$1" && go list -m -f '{{.Version}}' "$2")
}
kube_version="$(module_version "$here/kube" k8s.io/kubernetes)"
etcd_version="$(module_version "$here/etcd" go.etcd.io/etcd/server/v3)"
kube_minor="$(echo "$kube_version" | cut -d. -f2)"

started=$SECONDS

have_version() { # binary, expected substring of its --version output (kubeadm has a `version` command)
  local asked=(--version)
  [ "$(basename "$1")" = kubeadm ] && asked=(version -o short)
  [ -x "$1" ] && "$1" "${asked[@]}" 2>/dev/null | grep -qF -- "$2"
}

build_kube() {
  local ldflags="-s -w"
  ldflags+=" -X k8s.io/component-base/version.gitVersion=$kube_version"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$kube_minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  for cmd in kube-apiserver kube-controller-manager kubeadm; do
    if have_version "$out/$cmd" "$kube_version"; then
      echo "build-control-plane: $cmd $kube_version present"
      continue
    fi
    echo "build-control-plane: building $cmd $kube_version"
    (cd "$here/kube" && go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  done
}

build_etcd() {
  if have_version "$out/etcd" "etcd Version: ${etcd_version#v}"; then
    echo "build-control-plane: etcd $etcd_version present"
    return
  fi
  echo "build-control-plane: building etcd $etcd_version"
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_etcd
build_kube
echo "build-control-plane: ready in $out ($((SECONDS - started)) s)"
