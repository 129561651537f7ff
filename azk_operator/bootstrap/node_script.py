"""The shell script every azk node runs once from cloud-init to become a Kubernetes node.

It is the same for all roles; ``/etc/azk/bootstrap.env`` (non-secret values only) selects init or join.
Rules it keeps: no ``set -x`` and no secret on a command line (the token lives in the 0600 kubeadm config
file); kubeadm output is filtered so a token never reaches the cloud-init log; kubeadm is retried a bounded
number of times with ``kubeadm reset -f`` in between; because reset deletes /etc/kubernetes/pki, the CA
material is copied again from its staging folder before every attempt (else a retry would mint a new CA).
Success and failure each leave a marker file a health check can read.
"""

from __future__ import annotations

SCRIPT_PATH = "/usr/local/sbin/azk-bootstrap"
ENV_PATH = "/etc/azk/bootstrap.env"
KUBEADM_CONFIG_PATH = "/etc/azk/kubeadm.yaml"
PKI_STAGING_DIR = "/etc/azk/pki"
COMPLETION_MARKER = "/var/lib/azk/bootstrap-complete"
FAILURE_MARKER = "/var/lib/azk/bootstrap-failed"

NODE_BOOTSTRAP_SCRIPT = f"""#!/bin/bash
# azk node bootstrap: install containerd and the pinned Kubernetes packages, then kubeadm init or join.
# Never add `set -x`: the kubeadm config file holds a bootstrap token.
set -Eeuo pipefail
umask 077

# shellcheck source=/dev/null
. {ENV_PATH}

readonly KUBEADM_CONFIG={KUBEADM_CONFIG_PATH}
readonly PKI_STAGING={PKI_STAGING_DIR}
readonly COMPLETION_MARKER={COMPLETION_MARKER}
readonly FAILURE_MARKER={FAILURE_MARKER}
readonly KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg

log() {{
  printf '%s azk-bootstrap: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}}

# Bootstrap tokens look like abcdef.0123456789abcdef; mask any that a tool prints.
redact_tokens() {{
  sed -E 's/[a-z0-9]{{6}}\\.[a-z0-9]{{16}}/<redacted-token>/g'
}}

write_marker() {{
  local path=$1 detail=$2
  install -d -m 0755 "$(dirname "$path")"
  printf 'cluster=%s\\nrole=%s\\nkubernetesVersion=%s\\ntime=%s\\ndetail=%s\\n' \\
    "$AZK_CLUSTER_NAME" "$AZK_NODE_ROLE" "$KUBERNETES_VERSION" \\
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$detail" > "$path.tmp"
  chmod 0644 "$path.tmp"
  mv "$path.tmp" "$path"
}}

# With errtrace the trap also fires in each caller as the failure returns; keep the innermost line.
on_error() {{
  if [[ ! -f "$FAILURE_MARKER" ]]; then
    write_marker "$FAILURE_MARKER" "failed at line $1"
    log "bootstrap failed at line $1"
  fi
}}
trap 'on_error $LINENO' ERR

retry() {{
  local attempts=$1 attempt=1
  shift
  until "$@"; do
    if (( attempt >= attempts )); then
      return 1
    fi
    log "retrying $1 in $(( attempt * 10 ))s"
    sleep $(( attempt * 10 ))
    attempt=$(( attempt + 1 ))
  done
}}

prepare_host() {{
  swapoff -a
  sed -i -E '/^[^#].*[[:space:]]swap[[:space:]]/s/^/#/' /etc/fstab
  modprobe overlay
  modprobe br_netfilter
  sysctl --system > /dev/null
}}

install_containerd() {{
  retry 5 apt-get update -q
  retry 5 apt-get install -y -q apt-transport-https ca-certificates curl gpg containerd
  mkdir -p /etc/containerd
  containerd config default > /etc/containerd/config.toml
  sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
  systemctl enable containerd
  systemctl restart containerd
}}

install_kubernetes_packages() {{
  local repository="$KUBERNETES_PACKAGE_REPOSITORY/$KUBERNETES_MINOR/deb/" key_file
  install -d -m 0755 /etc/apt/keyrings
  key_file=$(mktemp)
  retry 5 curl -fsSL -o "$key_file" "${{repository}}Release.key"
  gpg --batch --yes --dearmor -o "$KEYRING" "$key_file"
  chmod 0644 "$KEYRING"
  rm -f "$key_file"
  printf 'deb [signed-by=%s] %s /\\n' "$KEYRING" "$repository" > /etc/apt/sources.list.d/kubernetes.list
  chmod 0644 /etc/apt/sources.list.d/kubernetes.list
  retry 5 apt-get update -q
  retry 5 apt-get install -y -q --allow-downgrades --allow-change-held-packages \\
    "kubelet=$KUBERNETES_PACKAGE_VERSION" "kubeadm=$KUBERNETES_PACKAGE_VERSION" \\
    "kubectl=$KUBERNETES_PACKAGE_VERSION"
  apt-mark hold kubelet kubeadm kubectl
  systemctl enable kubelet
}}

restore_pki() {{
  if [[ -d "$PKI_STAGING" ]]; then
    install -d -m 0755 /etc/kubernetes/pki
    cp -a "$PKI_STAGING/." /etc/kubernetes/pki/
  fi
}}

kubeadm_once() {{
  if [[ "$KUBEADM_ACTION" == init ]]; then
    kubeadm init --config "$KUBEADM_CONFIG" --skip-token-print
  else
    kubeadm join --config "$KUBEADM_CONFIG"
  fi
}}

run_kubeadm() {{
  local attempt
  for (( attempt = 1; attempt <= KUBEADM_MAX_ATTEMPTS; attempt++ )); do
    restore_pki
    log "kubeadm $KUBEADM_ACTION: attempt $attempt of $KUBEADM_MAX_ATTEMPTS"
    if kubeadm_once 2>&1 | redact_tokens; then
      return 0
    fi
    log "kubeadm $KUBEADM_ACTION failed; resetting the node before the next attempt"
    kubeadm reset -f 2>&1 | redact_tokens || true
    sleep $(( attempt * 15 ))
  done
  return 1
}}

main() {{
  if [[ -f "$COMPLETION_MARKER" ]]; then
    log "already bootstrapped"
    return 0
  fi
  rm -f "$FAILURE_MARKER"
  export DEBIAN_FRONTEND=noninteractive
  prepare_host
  install_containerd
  install_kubernetes_packages
  run_kubeadm
  write_marker "$COMPLETION_MARKER" "kubeadm $KUBEADM_ACTION succeeded"
  log "bootstrap complete"
}}

main "$@"
"""
