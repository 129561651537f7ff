"""The ARM error envelope, raised by handlers and rendered by the server."""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An error answer in ARM's ``{"error": {"code", "message"}}`` envelope."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def not_found(type_name: str, name: str, group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{type_name}/{name}' under resource group '{group}' was not found.",
    )


def invalid(message: str, code: str = "InvalidParameter") -> ArmError:
    return ArmError(400, code, message)
