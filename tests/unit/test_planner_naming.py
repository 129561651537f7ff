"""NodeSet naming: one stable hash per template, valid Kubernetes names for any pool."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from azk_operator.planner.naming import is_dns1123_label, nodeset_name, template_hash

TEMPLATE: dict[str, Any] = {
    "vmSize": "Standard_D4s_v5",
    "kubernetesVersion": "v1.37.2",
    "image": {"marketplace": {"publisher": "azk", "offer": "node", "sku": "2404", "version": "latest"}},
    "zones": ["1", "2", "3"],
    "osDiskSizeGB": 128,
    "spot": {"enabled": True, "maxPrice": "0.05"},
    "labels": {"team": "shop"},
    "taints": [{"key": "dedicated", "value": "shop", "effect": "NoSchedule"}],
}

CHANGES = [
    ("vmSize", "Standard_D8s_v5"),
    ("kubernetesVersion", "v1.37.3"),
    ("image", {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/images/n"}),
    ("zones", ["1", "2"]),
    ("osDiskSizeGB", 256),
    ("spot", {"enabled": True, "maxPrice": "0.06"}),
    ("labels", {"team": "ads"}),
    ("taints", [{"key": "dedicated", "value": "shop", "effect": "NoExecute"}]),
]


def test_hash_is_short_and_label_safe() -> None:
    assert re.fullmatch(r"[a-z2-7]{10}", template_hash(TEMPLATE))


@pytest.mark.parametrize(("field", "value"), CHANGES, ids=[c[0] for c in CHANGES])
def test_every_field_that_needs_new_vms_changes_the_hash(field: str, value: Any) -> None:
    assert template_hash({**TEMPLATE, field: value}) != template_hash(TEMPLATE)


def test_reordered_sets_and_unset_optionals_keep_the_hash() -> None:
    reordered = {**TEMPLATE, "zones": ["3", "1", "2"], "taints": list(reversed(TEMPLATE["taints"]))}
    assert template_hash(reordered) == template_hash(TEMPLATE)
    assert template_hash({**TEMPLATE, "newOptionalField": None, "extraLabels": {}}) == template_hash(TEMPLATE)


json_leaves = st.one_of(st.booleans(), st.integers(-1000, 1000), st.text(max_size=8))
templates = st.dictionaries(st.text(min_size=1, max_size=8), json_leaves, min_size=1, max_size=6)


@given(template=templates, data=st.data())
def test_hash_ignores_key_order_and_follows_every_value(
    template: dict[str, Any], data: st.DataObject
) -> None:
    keys = data.draw(st.permutations(list(template)))
    assert template_hash({k: template[k] for k in keys}) == template_hash(template)
    key = data.draw(st.sampled_from(sorted(template)))
    other = data.draw(json_leaves.filter(lambda v: v != template[key] or type(v) is not type(template[key])))
    assert template_hash({**template, key: other}) != template_hash(template)


def test_a_short_pool_name_is_kept_verbatim() -> None:
    assert nodeset_name("workers", "abcdefghij") == "workers-abcdefghij"


def test_long_or_dotted_pool_names_stay_distinct() -> None:
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    names = {nodeset_name(p, "abcdefghij") for p in (long_a, long_b, "web.v2", "web-v2")}
    assert len(names) == 4
    assert all(is_dns1123_label(n) for n in names)


@given(pool=st.text(max_size=300))
@example(pool="0\n")  # `$` matches before a trailing newline: names are checked with fullmatch
def test_nodeset_names_are_always_dns1123_labels(pool: str) -> None:
    name = nodeset_name(pool, template_hash(TEMPLATE))
    assert is_dns1123_label(name), name
    assert name.endswith("-" + template_hash(TEMPLATE))
    assert nodeset_name(pool, template_hash(TEMPLATE)) == name
