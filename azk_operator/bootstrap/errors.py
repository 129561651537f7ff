"""Errors of the bootstrap package. Messages name files and fields, never key or token material."""

from __future__ import annotations


class BootstrapError(ValueError):
    """Base class: an artifact cannot be generated, loaded or parsed from the given input."""


class PKIError(BootstrapError):
    """Certificates or keys are missing, inconsistent, of the wrong type, or stored insecurely."""


class CustomDataTooLargeError(BootstrapError):
    """A cloud-init document does not fit into Azure's customData, even compressed."""


class DocumentParseError(BootstrapError):
    """A cloud-init document is not one azk rendered (or is damaged)."""
