"""Shared fixtures live in tests/fixtures/<area>.py; this list registers them for every test."""

pytest_plugins = [
    "fixtures.emulator",
    "fixtures.kube",
    "fixtures.kube_world",
    "fixtures.crds",
    "fixtures.azure_layer",
    "fixtures.cluster_world",
]
