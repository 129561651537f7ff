"""A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager.

This is what integration tests and the VM boot simulator run instead of a mock. It mirrors what envtest
does (etcd without fsync, an apiserver with TLS, RBAC and service-account signing keys, an admin client
certificate), reaches etcd over TLS with a client certificate as a kubeadm node does, and adds
kube-controller-manager for garbage collection, namespace deletion, PDB status and service-account tokens,
which azk's drains and ownership rules depend on.
"""

from __future__ import annotations

import ctypes
import ipaddress
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from azk_operator.bootstrap.certs import CertKeyPair
from azk_operator.bootstrap.kubeconfig import client_certificate_kubeconfig, write_kubeconfig
from azk_operator.testenv.assets import KubeAssets, find_kube_assets
from azk_operator.testenv.pki import ControlPlaneFiles, SuppliedPKI, write_control_plane_pki

# Controllers azk relies on: ownerReference GC, namespace cleanup, PDB status for drains, the
# service-account controllers so ServiceAccounts get tokens and the default account exists, and ClusterRole
# aggregation so the built-in `view`/`edit`/`admin` roles carry rules.
CONTROLLERS = (
    "clusterrole-aggregation-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "disruption-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
)
SERVICE_CIDR = "10.96.0.0/12"
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0


class ControlPlaneError(RuntimeError):
    """The control plane did not come up; the message carries the failing process's last log lines."""


class ControlPlane:
    """One etcd + kube-apiserver + kube-controller-manager, bound to a loopback address.

    Use as a context manager, or call start() and stop(). Child processes are tied to this process with
    PR_SET_PDEATHSIG, so a killed test run leaves no control plane behind.
    """

    def __init__(
        self,
        work_dir: Path | None = None,
        bind: str = "127.0.0.1",
        pki: SuppliedPKI | None = None,
        secure_port: int | None = None,
        extra_apiserver_args: list[str] | None = None,
        controllers: tuple[str, ...] = CONTROLLERS,
        assets: KubeAssets | None = None,
    ) -> None:
        if not ipaddress.ip_address(bind).is_loopback:
            raise ValueError(f"bind: {bind} is not a loopback address (127.0.0.0/8)")
        self._own_work_dir = work_dir is None
        self.work_dir = Path(tempfile.mkdtemp(prefix="azk-testenv-")) if work_dir is None else work_dir
        self.bind = bind
        self._pki = pki or SuppliedPKI()
        self._secure_port = secure_port
        self._extra_apiserver_args = list(extra_apiserver_args or [])
        self._controllers = controllers
        self._assets = assets
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.startup_seconds: float | None = None
        self.server = ""
        self.etcd_server = ""
        """etcd's client URL (TLS, client certificates of the etcd CA only), valid once start() returned."""
        self.files: ControlPlaneFiles | None = None

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (mode 0600), valid once start() returned."""
        return self.work_dir / "admin.kubeconfig"

    @property
    def ca_cert_path(self) -> Path:
        """The CA bundle that verifies the apiserver's serving certificate."""
        return self.work_dir / "pki" / "ca.crt"

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start every process and return once the apiserver answers /readyz."""
        started = time.monotonic()
        assets = self._assets or find_kube_assets()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "logs").mkdir(exist_ok=True)
        self.files = write_control_plane_pki(self._pki, self.work_dir / "pki", self.bind)
        etcd_client, etcd_peer = _free_port(self.bind), _free_port(self.bind)
        secure_port = self._secure_port or _free_port(self.bind)
        self.server = f"https://{self.bind}:{secure_port}"
        self.etcd_server = f"https://{self.bind}:{etcd_client}"
        try:
            self._spawn("etcd", self._etcd_args(assets, etcd_peer))
            self._spawn("kube-apiserver", self._apiserver_args(assets, secure_port))
            self._write_kubeconfig()
            self._wait_ready()
            self._spawn("kube-controller-manager", self._controller_manager_args(assets))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def stop(self, grace_s: float = STOP_TIMEOUT_S) -> None:
        """Stop every child (newest first): SIGTERM, then SIGKILL after `grace_s`."""
        for _, proc in reversed(self._processes):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace_s
        for _, proc in reversed(self._processes):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._processes.clear()
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The last lines a child process wrote (its logs live in work_dir/logs/<name>.log)."""
        path = self.work_dir / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _etcd_args(self, assets: KubeAssets, peer_port: int) -> list[str]:
        files = self._require_files()
        client = self.etcd_server
        # One member has no peers to talk to, so the peer listener stays plain.
        peer = f"http://{self.bind}:{peer_port}"
        return [
            str(assets.etcd),
            f"--cert-file={files.etcd_server_cert}",
            f"--key-file={files.etcd_server_key}",
            f"--trusted-ca-file={files.etcd_ca_cert}",
            "--client-cert-auth",
            "--name=azk-testenv",
            f"--data-dir={self.work_dir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=azk-testenv={peer}",
            "--initial-cluster-state=new",
            # A test store holds nothing worth an fsync; without it etcd is several times faster.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]

    def _apiserver_args(self, assets: KubeAssets, secure_port: int) -> list[str]:
        files = self._require_files()
        return [
            str(assets.kube_apiserver),
            f"--etcd-servers={self.etcd_server}",
            f"--etcd-cafile={files.etcd_ca_cert}",
            f"--etcd-certfile={files.etcd_client_cert}",
            f"--etcd-keyfile={files.etcd_client_key}",
            f"--bind-address={self.bind}",
            f"--advertise-address={self.bind}",
            f"--secure-port={secure_port}",
            f"--tls-cert-file={files.serving_cert}",
            f"--tls-private-key-file={files.serving_key}",
            f"--client-ca-file={files.ca_cert}",
            f"--service-account-key-file={files.service_account_pub}",
            f"--service-account-signing-key-file={files.service_account_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            # A loopback advertise address is not a valid endpoint for the `kubernetes` Service, and no
            # pod here would use it anyway.
            "--endpoint-reconciler-type=none",
            f"--requestheader-client-ca-file={files.front_proxy_ca_cert}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={files.front_proxy_client_cert}",
            f"--proxy-client-key-file={files.front_proxy_client_key}",
            *self._extra_apiserver_args,
        ]

    def _controller_manager_args(self, assets: KubeAssets) -> list[str]:
        files = self._require_files()
        return [
            str(assets.kube_controller_manager),
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--leader-elect=false",
            f"--controllers={','.join(self._controllers)}",
            f"--service-account-private-key-file={files.service_account_key}",
            f"--root-ca-file={files.ca_cert}",
            f"--bind-address={self.bind}",
            f"--secure-port={_free_port(self.bind)}",
            # Several control planes share one machine in tests: faster GC and namespace cleanup matter more
            # than the apiserver load of a busy production cluster.
            "--concurrent-gc-syncs=10",
            "--concurrent-namespace-syncs=5",
        ]

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.work_dir / "logs" / f"{name}.log").open("ab")
        try:
            proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work_dir,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self._processes.append((name, proc))

    def _write_kubeconfig(self) -> None:
        files = self._require_files()
        admin = CertKeyPair.from_pem(files.admin_cert.read_bytes(), files.admin_key.read_bytes(), "admin")
        kubeconfig = client_certificate_kubeconfig(
            cluster_name="azk-testenv",
            server=self.server,
            ca_cert_pem=files.ca_cert.read_bytes(),
            client=admin,
            user="admin",
        )
        write_kubeconfig(self.kubeconfig, kubeconfig)

    def _wait_ready(self) -> None:
        files = self._require_files()
        context = ssl.create_default_context(cafile=str(files.ca_cert))
        context.load_cert_chain(str(files.admin_cert), str(files.admin_key))
        deadline = time.monotonic() + READY_TIMEOUT_S
        last_error = ""
        while time.monotonic() < deadline:
            for name, proc in self._processes:
                if proc.poll() is not None:
                    raise ControlPlaneError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                # self.server is always the https URL built in start().
                with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=5) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise ControlPlaneError(
            f"kube-apiserver not ready after {READY_TIMEOUT_S:.0f} s ({last_error}):\n"
            f"{self.log_tail('kube-apiserver')}"
        )

    def _require_files(self) -> ControlPlaneFiles:
        if self.files is None:
            raise RuntimeError("ControlPlane.start() has not written its PKI yet")
        return self.files


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel kills it when the parent dies.

    SIGKILL rather than SIGTERM: a test control plane's state is scratch, and kube-apiserver's graceful
    shutdown can take long enough to outlive the test run that lost its parent.
    """
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
