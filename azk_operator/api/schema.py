"""Turn pydantic's JSON Schema into a Kubernetes structural schema.

pydantic writes JSON Schema 2020-12: shared `$defs` with `$ref`, `anyOf [X, null]` for optional fields,
titles, `additionalProperties: false`. A CRD needs a structural schema: every node typed, no references,
optional meaning "not required" rather than nullable, and free-form objects marked
`x-kubernetes-preserve-unknown-fields`. Anything this module does not know how to translate is an error,
so a new model construct cannot slip an invalid schema into crds/.
"""

from __future__ import annotations

from typing import Any

JsonSchema = dict[str, Any]

_DROPPED = {"title", "examples"}
#: Keys first in this order, the rest after them as pydantic wrote them: the YAML reads like kubectl explain.
_KEY_ORDER = ("description", "type", "format", "enum", "default")
_NULL = {"type": "null"}


class SchemaError(ValueError):
    """The model produced a schema construct that has no structural equivalent."""


def structural(schema: JsonSchema) -> JsonSchema:
    """The structural equivalent of a pydantic `model_json_schema()`."""
    defs: dict[str, JsonSchema] = schema.get("$defs", {})
    return _convert({k: v for k, v in schema.items() if k != "$defs"}, defs, path="")


def _merge(base: JsonSchema, extra: JsonSchema) -> JsonSchema:
    merged = {**base, **extra}
    rules = [*base.get("x-kubernetes-validations", []), *extra.get("x-kubernetes-validations", [])]
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _unwrap(text: str) -> str:
    """Docstrings are wrapped at the source's line length; `kubectl explain` wraps again, so keep only
    paragraph breaks."""
    paragraphs = (" ".join(paragraph.split()) for paragraph in text.split("\n\n"))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def _convert(node: JsonSchema, defs: dict[str, JsonSchema], path: str) -> JsonSchema:
    node = dict(node)
    if "$ref" in node:
        target = defs[node.pop("$ref").removeprefix("#/$defs/")]
        node = _merge(target, node)
    if "anyOf" in node:
        variants = [v for v in node.pop("anyOf") if v != _NULL]
        if len(variants) != 1:
            raise SchemaError(f"{path or '.'}: a union other than `X | None` needs an explicit schema")
        if node.get("default", ...) is None:
            del node["default"]
        node = _merge(_convert(variants[0], defs, path), node)
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("additionalProperties") is True:
        del node["additionalProperties"]
        node["x-kubernetes-preserve-unknown-fields"] = True
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]  # the API server prunes unknown fields instead
    for key in _DROPPED:
        node.pop(key, None)
    if "description" in node:
        node["description"] = _unwrap(node["description"])

    if "properties" in node:
        node["properties"] = {
            name: _convert(child, defs, f"{path}.{name}") for name, child in node["properties"].items()
        }
    if "items" in node:
        node["items"] = _convert(node["items"], defs, f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _convert(node["additionalProperties"], defs, f"{path}.*")
    if "type" not in node and not node.get("x-kubernetes-int-or-string"):
        raise SchemaError(f"{path or '.'}: schema has no type: {node}")
    first = {key: node[key] for key in _KEY_ORDER if key in node}
    return {**first, **{key: value for key, value in node.items() if key not in first}}
