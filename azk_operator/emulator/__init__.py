"""The azk ARM emulator: Azure Resource Manager on a loopback address for tests and local mode.

Start it in-process with :class:`ArmEmulator` (background thread) or :class:`AsyncArmEmulator` (current
event loop), or standalone with ``azk emulator run``. Point the unchanged Azure SDK clients at
``emulator.endpoint`` with ``connection_verify=str(emulator.ca_path)``.
"""

from azk_operator.emulator.boot import (
    BootEvent,
    BootHandler,
    BootReason,
    FrontendAddress,
    NullBootHandler,
    ShutdownEvent,
    ShutdownReason,
)
from azk_operator.emulator.catalog import DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID
from azk_operator.emulator.client import EmulatorControl, EmulatorControlError, InventoryItem, JournalRecord
from azk_operator.emulator.credentials import AsyncEmulatorCredential, EmulatorCredential
from azk_operator.emulator.identity import STATIC_TEST_TOKEN, TEST_CLIENT_ID, TEST_CLIENT_SECRET
from azk_operator.emulator.profiles import Latency, LatencyProfile
from azk_operator.emulator.server import ArmEmulator, AsyncArmEmulator
from azk_operator.emulator.throttle import BucketSpec, ThrottleSpec

__all__ = [
    "DEFAULT_SUBSCRIPTION_ID",
    "DEFAULT_TENANT_ID",
    "STATIC_TEST_TOKEN",
    "TEST_CLIENT_ID",
    "TEST_CLIENT_SECRET",
    "ArmEmulator",
    "AsyncArmEmulator",
    "AsyncEmulatorCredential",
    "BootEvent",
    "BootHandler",
    "BootReason",
    "BucketSpec",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorCredential",
    "FrontendAddress",
    "InventoryItem",
    "JournalRecord",
    "Latency",
    "LatencyProfile",
    "NullBootHandler",
    "ShutdownEvent",
    "ShutdownReason",
    "ThrottleSpec",
]
