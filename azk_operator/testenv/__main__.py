"""`python -m azk_operator.testenv`: run a test control plane until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from azk_operator.bootstrap.files import write_secret_file
from azk_operator.testenv.controlplane import ControlPlane
from azk_operator.testenv.pki import SuppliedPKI

app = typer.Typer(add_completion=False)

# kubeadm's file names, so a folder written by azk's bootstrap (or kubeadm) can be handed over as is.
_PKI_FILES = {
    "ca_cert": "ca.crt",
    "ca_key": "ca.key",
    "service_account_key": "sa.key",
    "service_account_pub": "sa.pub",
    "front_proxy_ca_cert": "front-proxy-ca.crt",
    "front_proxy_ca_key": "front-proxy-ca.key",
    "serving_cert": "apiserver.crt",
    "serving_key": "apiserver.key",
    "etcd_ca_cert": "etcd/ca.crt",
    "etcd_ca_key": "etcd/ca.key",
    "etcd_server_cert": "etcd/server.crt",
    "etcd_server_key": "etcd/server.key",
    "etcd_client_cert": "apiserver-etcd-client.crt",
    "etcd_client_key": "apiserver-etcd-client.key",
}


def _read_pki(folder: Path) -> SuppliedPKI:
    found = {
        field: (folder / name).read_bytes() for field, name in _PKI_FILES.items() if (folder / name).exists()
    }
    return SuppliedPKI(**found)


@app.command()
def main(
    kubeconfig: Annotated[Path, typer.Option(help="Where to write the admin kubeconfig (mode 0600).")],
    bind: Annotated[
        str, typer.Option(help="Loopback address (127.0.0.0/8) every process binds to.")
    ] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="kube-apiserver secure port (default: a free one).")
    ] = None,
    pki_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder in kubeadm layout (ca.crt, ca.key, sa.key, sa.pub, front-proxy-ca.*, "
            "apiserver.*, etcd/ca.*, etcd/server.*, apiserver-etcd-client.*); what is missing is generated."
        ),
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="State and logs (default: a temporary folder).")
    ] = None,
) -> None:
    """Start etcd, kube-apiserver and kube-controller-manager; print a line with `ready`; stop on a signal."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pki = _read_pki(pki_dir) if pki_dir else SuppliedPKI()
    with ControlPlane(work_dir=work_dir, bind=bind, pki=pki, secure_port=port) as plane:
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        write_secret_file(kubeconfig, plane.kubeconfig.read_bytes())
        typer.echo(
            f"control plane ready at {plane.server} in {plane.startup_seconds:.1f} s; kubeconfig {kubeconfig}"
        )
        stop.wait()
    typer.echo("control plane stopped")


if __name__ == "__main__":
    app()
