"""The `azk` Typer app through Typer's runner: every command's help, output formats, and the answers to
input that needs no Azure and no cluster (unknown clusters, refusals, previews).

Every test runs with its own empty `AZK_HOME` and no Azure variables from the developer's environment; a test
that must not write asserts the home folder was never even created.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from azk_operator import __version__
from azk_operator.cli.main import app
from azk_operator.create.home import ClusterHome
from azk_operator.create.request import CreateOptions, build_request

SUBSCRIPTION = "11111111-2222-4333-8444-555555555555"
CLIENT = "22222222-2222-4333-8444-555555555555"
TENANT = "33333333-2222-4333-8444-555555555555"
IDS = ["--subscription", SUBSCRIPTION, "--client-id", CLIENT, "--tenant-id", TENANT]
# Every command path of the app: `azk <path> --help` must answer for each.
COMMANDS = [
    [],
    ["create"],
    ["status"],
    ["kubeconfig"],
    ["delete"],
    ["version"],
    ["operator"],
    ["operator", "run"],
    ["emulator"],
    ["emulator", "run"],
    ["local"],
    ["local", "up"],
    ["local", "down"],
    ["local", "status"],
]
pytestmark = pytest.mark.usefixtures("home")  # every test runs in a clean environment


def azk(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def assert_clean_failure(result: Result, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output


def record_cluster(name: str, kubeconfig: str | None = None) -> ClusterHome:
    """The records `azk create` leaves in AZK_HOME for a cluster (resources and, optionally, a kubeconfig)."""
    request = build_request(
        CreateOptions(name=name, subscription_id=SUBSCRIPTION, client_id=CLIENT, tenant_id=TENANT)
    )
    home = ClusterHome.of(name)
    home.write_resources(list(request.manifests))
    home.write_settings({"namespace": request.namespace, "local": False})
    if kubeconfig is not None:
        home.write_kubeconfig(kubeconfig)
    return home


# -- help and version ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "azk")
def test_every_command_answers_help(path: list[str]) -> None:
    result = azk(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_top_level_help_lists_every_command() -> None:
    result = azk("--help")
    assert result.exit_code == 0
    for command in ("create", "status", "kubeconfig", "delete", "version", "operator", "emulator", "local"):
        assert command in result.output


def test_no_arguments_shows_help() -> None:
    result = azk()
    assert "Usage:" in result.output
    assert "create" in result.output


def test_version_prints_the_package_version() -> None:
    result = azk("version")
    assert result.exit_code == 0
    assert result.output.strip() == f"azk {__version__}"


def test_create_help_shows_every_flag_and_its_environment_fallback() -> None:
    result = azk("create", "--help")
    for flag in (
        "--subscription",
        "--resource-group",
        "--location",
        "--kubernetes-version",
        "--control-plane-count",
        "--node-count",
        "--pod-cidr",
        "--service-cidr",
        "--dry-run",
        "--render-dir",
        "--local",
        "--yes",
    ):
        assert flag in result.output
    assert "AZURE_SUBSCRIPTION_ID" in result.output


# -- create: previews -------------------------------------------------------------------------------------


def test_create_without_a_name_when_not_in_a_terminal_names_the_argument(home: Path) -> None:
    result = azk("create", "--yes", *IDS, "--dry-run")
    assert_clean_failure(result, 2, "NAME")
    assert not home.exists()


def test_create_without_a_subscription_names_the_flag_and_its_variable(home: Path) -> None:
    result = azk("create", "demo", "--yes", "--dry-run")
    assert_clean_failure(result, 2, "--subscription", "AZURE_SUBSCRIPTION_ID")
    assert not home.exists()


def test_create_takes_the_subscription_and_identity_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT)
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    result = azk("create", "demo", "--yes", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    cluster = next(o for o in json.loads(result.stdout)["kubernetes"] if o["kind"] == "Cluster")
    assert cluster["name"] == "demo"


def test_dry_run_json_lists_azure_resources_and_kubernetes_objects(home: Path) -> None:
    result = azk("create", "demo", "--yes", *IDS, "--dry-run", "--node-count", "3", "-o", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["cluster"] == "demo"
    assert plan["namespace"] == "azk-system"
    types = [r["type"] for r in plan["azure"]]
    assert types[0] == "Microsoft.Resources/resourceGroups", "the group comes first"
    for kind in (
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/networkSecurityGroups",
        "Microsoft.Network/loadBalancers",
        "Microsoft.Network/publicIPAddresses",
        "Microsoft.Compute/virtualMachineScaleSets",
    ):
        assert kind in types
    assert plan["azure"][0]["name"] == "demo-rg"
    assert all(set(r) == {"type", "name", "createdBy"} for r in plan["azure"])
    workers = [r for r in plan["azure"] if r["name"].startswith("demo-workers")]
    assert workers and "replicas: 3" in workers[0]["createdBy"]
    kinds = {(o["kind"], o["name"]) for o in plan["kubernetes"]}
    assert ("Cluster", "demo") in kinds
    assert ("NodePool", "demo-workers") in kinds
    assert ("Namespace", "azk-system") in kinds
    assert any(kind == "CustomResourceDefinition" for kind, _ in kinds)
    assert any(kind == "Deployment" for kind, _ in kinds)
    assert ("Secret", "azure-credentials") in kinds, "a service principal's secret goes to the operator"
    assert not home.exists(), "a dry run writes nothing"


def test_dry_run_yaml_and_table_show_the_same_plan(home: Path) -> None:
    as_yaml = azk("create", "demo", "--yes", *IDS, "--dry-run", "-o", "yaml")
    assert as_yaml.exit_code == 0, as_yaml.output
    plan = yaml.safe_load(as_yaml.stdout)
    as_table = azk("create", "demo", "--yes", *IDS, "--dry-run")
    assert as_table.exit_code == 0, as_table.output
    assert "Azure resources" in as_table.stdout
    assert "Kubernetes objects" in as_table.stdout
    for resource in plan["azure"]:
        assert resource["name"] in as_table.stdout
    assert not home.exists()


def test_dry_run_with_managed_identity_hands_no_secret_to_the_operator() -> None:
    result = azk(
        "create", "demo", "--yes", "--subscription", SUBSCRIPTION, "--identity", "ManagedIdentity",
        "--dry-run", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "azure-credentials" not in {o["name"] for o in json.loads(result.stdout)["kubernetes"]}


def test_render_dir_writes_every_document_owner_only(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "rendered"
    result = azk("create", "demo", "--yes", *IDS, "--render-dir", str(target))
    assert result.exit_code == 0, result.output
    files = sorted(p for p in target.rglob("*") if p.is_file())
    relative = {str(p.relative_to(target)) for p in files}
    for expected in (
        "cloud-init/first-control-plane.yaml",
        "cloud-init/control-plane-join.yaml",
        "cloud-init/worker.yaml",
        "manifests/00-crds.yaml",
        "manifests/10-operator.yaml",
        "manifests/20-secrets.yaml",
        "manifests/30-resources.yaml",
        "admin.kubeconfig",
    ):
        assert expected in relative
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for document in ("first-control-plane", "control-plane-join", "worker"):
        text = (target / "cloud-init" / f"{document}.yaml").read_text()
        assert text.startswith("#cloud-config"), document
        assert "kubeadm" in text
    resources = list(yaml.safe_load_all((target / "manifests/30-resources.yaml").read_text()))
    assert [r["kind"] for r in resources] == ["Cluster", "NodePool"]
    assert f"wrote {len(files)} files" in result.stderr
    assert not home.exists(), "rendering keeps its keys in the render folder only"


def test_render_dir_with_dry_run_prints_the_plan_too(tmp_path: Path) -> None:
    target = tmp_path / "rendered"
    result = azk("create", "demo", "--yes", *IDS, "--dry-run", "-o", "json", "--render-dir", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cluster"] == "demo"
    assert (target / "cloud-init" / "worker.yaml").is_file()


def test_bad_output_format_names_the_flag() -> None:
    result = azk("create", "demo", "--yes", *IDS, "--dry-run", "-o", "xml")
    assert_clean_failure(result, 2, "--output")


# -- kubeconfig -------------------------------------------------------------------------------------------


def test_kubeconfig_of_an_unknown_cluster_says_so(home: Path) -> None:
    result = azk("kubeconfig", "ghost")
    assert_clean_failure(result, 1, "unknown cluster ghost", "azk create ghost")
    assert not home.exists()


def test_kubeconfig_is_written_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_cluster("demo", kubeconfig="apiVersion: v1\nkind: Config\n")
    monkeypatch.chdir(tmp_path)
    result = azk("kubeconfig", "demo")
    assert result.exit_code == 0, result.output
    written = tmp_path / "demo.kubeconfig"
    assert result.stdout.strip() == "demo.kubeconfig"
    assert written.read_text() == "apiVersion: v1\nkind: Config\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    elsewhere = tmp_path / "sub" / "admin.yaml"
    result = azk("kubeconfig", "demo", "--file", str(elsewhere))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600


@pytest.mark.parametrize("command", ["kubeconfig", "status", "delete"])
@pytest.mark.parametrize("name", ["../outside", "Demo", "a" * 41])
def test_cluster_commands_refuse_a_name_that_is_no_cluster_name(command: str, name: str, home: Path) -> None:
    result = azk(command, name, "--yes") if command == "delete" else azk(command, name)
    assert_clean_failure(result, 2, "NAME", "is not a cluster name")
    assert not home.exists()


# -- status -----------------------------------------------------------------------------------------------


def test_status_of_an_unknown_cluster_says_so(home: Path) -> None:
    result = azk("status", "ghost")
    assert_clean_failure(result, 1, "unknown cluster ghost", "--kubeconfig")
    assert not home.exists()


def test_status_through_an_unreachable_api_server_fails_cleanly(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    result = azk("status", "demo", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert_clean_failure(result, 1, "cannot read cluster demo")


# -- delete -----------------------------------------------------------------------------------------------


def test_delete_of_an_unknown_cluster_says_so(home: Path) -> None:
    result = azk("delete", "ghost", "--yes")
    assert_clean_failure(result, 2, "no record of cluster ghost")
    assert not home.exists()


def test_delete_without_yes_outside_a_terminal_refuses_and_keeps_everything() -> None:
    home = record_cluster("demo")
    before = sorted(p.name for p in home.root.iterdir())
    result = azk("delete", "demo", stdin="y\n")
    assert_clean_failure(result, 2, "refusing to delete without confirmation", "--yes")
    assert sorted(p.name for p in home.root.iterdir()) == before


# -- local, emulator, operator: input checked before anything starts -------------------------------------


def test_local_status_when_not_running(home: Path) -> None:
    result = azk("local", "status", "-o", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {"running": False}
    table = azk("local", "status")
    assert table.stdout.strip() == "local mode is not running"


def test_local_down_when_not_running() -> None:
    result = azk("local", "down")
    assert result.exit_code == 0, result.output
    assert "not running" in result.stdout


def test_local_up_refuses_an_unknown_profile(home: Path) -> None:
    result = azk("local", "up", "--profile", "sluggish")
    assert_clean_failure(result, 2, "--profile")
    assert not home.exists()


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--host", "10.1.2.3"], "--host"),
        (["--host", "0.0.0.0"], "--host"),  # noqa: S104 (the point: anything but loopback is refused)
        (["--profile", "sluggish"], "--profile"),
        (["--port", "http"], "--port"),
    ],
)
def test_emulator_run_refuses_bad_flags(args: list[str], flag: str) -> None:
    result = azk("emulator", "run", *args)
    assert_clean_failure(result, 2, flag)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ([], "--namespace"),
        (["--namespace", "azk-system", "--all-namespaces"], "--namespace"),
        (["-A", "--kubeconfig", "/nonexistent/kubeconfig"], "--kubeconfig"),
    ],
)
def test_operator_run_refuses_bad_flags(args: list[str], flag: str) -> None:
    result = azk("operator", "run", *args)
    assert_clean_failure(result, 2, flag)


def test_the_cli_defaults_are_the_create_requests_defaults() -> None:
    """The CLI keeps its own copy (so `azk --help` need not import the models); they must not drift."""
    from azk_operator.cli import create as cli
    from azk_operator.create import request

    options = request.CreateOptions(name="demo", subscription_id="00000000-0000-4000-8000-000000000001")
    assert (
        options.location,
        options.kubernetes_version,
        options.node_count,
    ) == (cli.DEFAULT_LOCATION, cli.DEFAULT_VERSION, cli.DEFAULT_NODE_COUNT)
    assert cli.DEFAULT_VM_SIZE == options.control_plane_size == options.node_size
