"""Group, version, object metadata and the base of the four top-level kinds."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Field

from azk_operator.api.rules import ApiModel, raise_errors, transition_errors

GROUP = "engine.azk.io"
VERSION = "v1alpha1"
API_VERSION: Literal["engine.azk.io/v1alpha1"] = "engine.azk.io/v1alpha1"


class ObjectMeta(ApiModel):
    """The parts of Kubernetes object metadata azk reads; every other field is kept as it came."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    generation: int | None = None
    uid: str | None = None
    resource_version: str | None = None


class Resource(ApiModel):
    """A top-level object: apiVersion, kind, metadata, spec, status."""

    #: The plural resource name (`clusters`), the CRD's `spec.names.plural`.
    plural: ClassVar[str]

    api_version: Literal["engine.azk.io/v1alpha1"] = API_VERSION
    kind: str
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @classmethod
    def validate_update(cls, old: Self, new: Self) -> None:
        """Raise the errors the API server gives for an update from `old` to `new` (immutable fields).

        Each model's own rules already ran when `old` and `new` were validated; this adds the transition
        rules (`oldSelf` in CEL), which need both.
        """
        raise_errors(cls.__name__, transition_errors(old, new))

    def to_manifest(self) -> dict[str, Any]:
        """The object as a Kubernetes manifest: camelCase, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
