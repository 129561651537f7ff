"""Validation rules declared once and enforced twice: by the API server (CEL) and by Python callers.

Every rule carries the CEL expression that goes into the CRD (`x-kubernetes-validations`), the message the
API server shows, and a Python predicate that mirrors the expression. The models run the predicates on
`model_validate`, raising errors at the same field path with the same message, so the CLI rejects bad
flags before it makes a single Azure call, exactly as `kubectl apply` would reject the same object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema

#: The `reason` values the API server accepts on a CEL rule; it picks the error's wording
#: ("Invalid value", "Required value", "Forbidden", "Duplicate value").
Reason = Literal["FieldValueInvalid", "FieldValueRequired", "FieldValueForbidden", "FieldValueDuplicate"]

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Rule:
    """A rule on one object: `cel` sees the object as `self`; `check` gets the validated model."""

    cel: str
    message: str
    check: Callable[[Any], bool]
    #: The camelCase path (relative to the object) the error is reported at; None reports the object itself.
    field: str | None = None
    reason: Reason = "FieldValueInvalid"


@dataclass(frozen=True)
class TransitionRule:
    """A rule on updates (`oldSelf` in CEL): `check(old, new)` mirrors it for Python callers."""

    cel: str
    message: str
    check: Callable[[Any, Any], bool]
    field: str | None = None
    reason: Reason = "FieldValueForbidden"


def crd_entry(rule: Rule | TransitionRule) -> dict[str, str]:
    """The `x-kubernetes-validations` entry of `rule`."""
    entry = {"rule": rule.cel, "message": rule.message}
    if rule.field is not None:
        entry["fieldPath"] = "." + rule.field
    if rule.reason != "FieldValueInvalid":
        entry["reason"] = rule.reason
    return entry


def rule_loc(rule: Rule | TransitionRule) -> Loc:
    return tuple(rule.field.split(".")) if rule.field else ()


def immutable(field_name: str, attribute: str) -> TransitionRule:
    """`field_name` (camelCase, a property of the object) may not change once set."""
    return TransitionRule(
        cel=f"self.{field_name} == oldSelf.{field_name}",
        message=f"{field_name} is immutable",
        check=lambda old, new: getattr(old, attribute) == getattr(new, attribute),
        field=field_name,
    )


def rule_error(message: str, loc: Loc, value: object) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("azk_rule", message), loc=loc, input=value)


def raise_errors(title: str, errors: Sequence[InitErrorDetails]) -> None:
    """Raise one ValidationError for all `errors`; nested models prefix each `loc` with their own path."""
    if errors:
        raise ValidationError.from_exception_data(title, list(errors))


class ApiModel(BaseModel):
    """Base of every API object: camelCase on the wire, snake_case in Python, unknown fields refused.

    Refusing unknown fields mirrors `kubectl apply`'s strict field validation, so a typo such as `vnetCIDR`
    fails in the CLI as it fails at the API server.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        strict=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )

    rules: ClassVar[tuple[Rule, ...]] = ()
    transition_rules: ClassVar[tuple[TransitionRule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        errors = [
            rule_error(rule.message, rule_loc(rule), self._value_at(rule_loc(rule)))
            for rule in type(self).rules
            if not rule.check(self)
        ]
        raise_errors(type(self).__name__, errors)
        return self

    def _value_at(self, loc: Loc) -> object:
        value: object = self
        for part in loc:
            value = (
                getattr(value, _attribute_for(type(value), str(part)))
                if isinstance(value, BaseModel)
                else None
            )
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(schema))
        rules: list[Rule | TransitionRule] = [*cls.rules, *cls.transition_rules]
        entries = [crd_entry(rule) for rule in rules]
        if entries:
            json_schema["x-kubernetes-validations"] = entries
        return json_schema


def _attribute_for(model: type[BaseModel], alias: str) -> str:
    for name, info in model.model_fields.items():
        if alias in (name, info.alias):
            return name
    raise KeyError(alias)


def transition_errors(old: BaseModel, new: BaseModel, loc: Loc = ()) -> list[InitErrorDetails]:
    """Evaluate every transition rule of `new` and its nested models against `old`.

    Like the API server, a nested rule runs only where both the old and the new object have the field.
    """
    errors: list[InitErrorDetails] = []
    if isinstance(new, ApiModel):
        for rule in type(new).transition_rules:
            if not rule.check(old, new):
                errors.append(rule_error(rule.message, loc + rule_loc(rule), new._value_at(rule_loc(rule))))
    for name, info in type(new).model_fields.items():
        old_value, new_value = getattr(old, name), getattr(new, name)
        if isinstance(old_value, BaseModel) and type(old_value) is type(new_value):
            errors.extend(transition_errors(old_value, new_value, (*loc, info.alias or name)))
    return errors


@dataclass(frozen=True)
class FieldRule:
    """A rule on one value, used as `Annotated[T, FieldRule(...)]`: CEL on the property, check in Python."""

    cel: str
    message: str
    check: Callable[[Any], bool]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(schema))
        json_schema.setdefault("x-kubernetes-validations", []).append(
            {"rule": self.cel, "message": self.message}
        )
        return json_schema

    def _validate(self, value: Any) -> Any:
        if not self.check(value):
            raise PydanticCustomError("azk_rule", self.message)
        return value


@dataclass(frozen=True)
class ListType:
    """`x-kubernetes-list-type` set or map: the API server refuses duplicates, and so does Python.

    For `map`, `keys` are the item fields (camelCase) that identify an item.
    """

    kind: Literal["set", "map"]
    keys: tuple[str, ...] = field(default=())

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(schema))
        json_schema["x-kubernetes-list-type"] = self.kind
        if self.kind == "map":
            json_schema["x-kubernetes-list-map-keys"] = list(self.keys)
        return json_schema

    def _identity(self, item: Any) -> str:
        """The item's identity, written as the API server writes it in "Duplicate value: ..." errors."""
        if self.kind == "set":
            return json.dumps(item)
        keys = {key: getattr(item, _attribute_for(type(item), key)) for key in self.keys}
        return json.dumps(keys, separators=(",", ":"))

    def _validate(self, items: list[Any]) -> list[Any]:
        seen: set[str] = set()
        errors: list[InitErrorDetails] = []
        for index, item in enumerate(items):
            identity = self._identity(item)
            if identity in seen:
                errors.append(rule_error(f"Duplicate value: {identity}", (index,), item))
            seen.add(identity)
        raise_errors("list", errors)
        return items


def error_lines(error: ValidationError) -> list[str]:
    """One `path: message` line per error, the path in the API server's form (`spec.addons[1].name`)."""
    return [
        f"{_wire_path(detail['loc'])}: {detail['msg']}" if detail["loc"] else detail["msg"]
        for detail in error.errors()
    ]


def _wire_path(loc: Loc) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
