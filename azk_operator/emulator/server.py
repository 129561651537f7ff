"""Running the emulator: on the caller's event loop (``AsyncArmEmulator``) or on a background thread with its
own loop (``ArmEmulator``, for sync tests and fixtures; async tests can use it too)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from azk_operator.emulator.app import EmulatorApp, EmulatorSettings
from azk_operator.emulator.boot import BootHandler, NullBootHandler
from azk_operator.emulator.catalog import DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID
from azk_operator.emulator.client import EmulatorControl
from azk_operator.emulator.engine import Subscription
from azk_operator.emulator.profiles import LatencyProfile
from azk_operator.emulator.resources.compute import replay_boots
from azk_operator.emulator.throttle import ThrottleSpec
from azk_operator.emulator.tls import TlsFiles, ensure_tls

T = TypeVar("T")


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class AsyncArmEmulator:
    """The emulator on the running event loop: ``async with AsyncArmEmulator() as emu: ...``.

    Do not call ``EmulatorControl`` (a blocking client) from the same loop; use ``emu.app`` directly.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        profile: LatencyProfile | None = None,
        state_file: Path | None = None,
        tls_dir: Path | None = None,
        page_size: int = 100,
        boot_handler: BootHandler | None = None,
        throttle: ThrottleSpec | None = None,
        msi_port: int = 0,
        extra_subscriptions: Sequence[str] = (),
    ) -> None:
        self.host = host
        self._port = port
        self._msi_port = msi_port
        self.settings = EmulatorSettings(
            profile=profile or LatencyProfile.fast(),
            state_file=state_file,
            page_size=page_size,
            boot_handler=boot_handler or NullBootHandler(),
            throttle=throttle,
            subscriptions=[
                Subscription(sub_id, f"azk emulator {index}", DEFAULT_TENANT_ID)
                for index, sub_id in enumerate((DEFAULT_SUBSCRIPTION_ID, *extra_subscriptions))
            ],
        )
        self._own_tls_dir = tls_dir is None and state_file is None
        if tls_dir is not None:
            self.tls_dir = tls_dir
        elif state_file is not None:
            self.tls_dir = state_file.with_name(state_file.name + ".tls")
        else:
            self.tls_dir = Path(tempfile.mkdtemp(prefix="azk-emulator-tls-"))
        self.tls: TlsFiles | None = None
        self.app: EmulatorApp | None = None
        self._runner: web.AppRunner | None = None
        self._msi_runner: web.AppRunner | None = None
        self.port = 0
        self.msi_port = 0

    @property
    def endpoint(self) -> str:
        """The ARM endpoint (``base_url`` of SDK clients, ``authority`` of identity credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def msi_endpoint(self) -> str:
        """Plain-HTTP managed-identity endpoint (``AZURE_POD_IDENTITY_AUTHORITY_HOST``)."""
        return f"http://{self.host}:{self.msi_port}"

    @property
    def ca_path(self) -> Path:
        if self.tls is None:
            raise RuntimeError("the emulator is not started")
        return self.tls.ca_cert

    @property
    def subscription_id(self) -> str:
        return DEFAULT_SUBSCRIPTION_ID

    @property
    def tenant_id(self) -> str:
        return DEFAULT_TENANT_ID

    @property
    def identity_header(self) -> str:
        """The ``IDENTITY_HEADER`` secret of the App-Service-style managed-identity endpoint."""
        if self.app is None:
            raise RuntimeError("the emulator is not started")
        return self.app.identity_header

    def env(self) -> dict[str, str]:
        return {"AZK_ARM_ENDPOINT": self.endpoint, "AZK_ARM_CA": str(self.ca_path)}

    async def start(self) -> None:
        self.tls = ensure_tls(self.tls_dir, [self.host])
        self.app = EmulatorApp(self.settings)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
        sock = _bound_socket(self.host, self._port)
        msi_sock = _bound_socket(self.host, self._msi_port)
        self.port = sock.getsockname()[1]
        self.msi_port = msi_sock.getsockname()[1]
        self._runner = web.AppRunner(self.app.arm_app(), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock, ssl_context=context).start()
        self._msi_runner = web.AppRunner(self.app.msi_app(), access_log=None)
        await self._msi_runner.setup()
        await web.SockSite(self._msi_runner, msi_sock).start()
        if self.app.restored:
            replay_boots(self.app.engine)

    async def drain_hooks(self) -> None:
        """Wait for every boot/shutdown handler call emitted so far."""
        if self.app is not None:
            await self.app.dispatcher.drain()

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.dispatcher.drain()
            self.app.persist()
        for runner in (self._runner, self._msi_runner):
            if runner is not None:
                await runner.cleanup()
        self._runner = self._msi_runner = None
        if self._own_tls_dir:
            shutil.rmtree(self.tls_dir, ignore_errors=True)

    async def __aenter__(self) -> AsyncArmEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class ArmEmulator:
    """The emulator on a background thread: ``with ArmEmulator() as emu: emu.endpoint, emu.ca_path``.

    Works from sync code and from async tests alike (the server never shares the test's loop).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        profile: LatencyProfile | None = None,
        state_file: Path | None = None,
        tls_dir: Path | None = None,
        page_size: int = 100,
        boot_handler: BootHandler | None = None,
        throttle: ThrottleSpec | None = None,
        msi_port: int = 0,
        extra_subscriptions: Sequence[str] = (),
    ) -> None:
        self.server = AsyncArmEmulator(
            host,
            port,
            profile=profile,
            state_file=state_file,
            tls_dir=tls_dir,
            page_size=page_size,
            boot_handler=boot_handler,
            throttle=throttle,
            msi_port=msi_port,
            extra_subscriptions=extra_subscriptions,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._control: EmulatorControl | None = None

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def msi_endpoint(self) -> str:
        return self.server.msi_endpoint

    @property
    def ca_path(self) -> Path:
        return self.server.ca_path

    @property
    def subscription_id(self) -> str:
        return self.server.subscription_id

    @property
    def tenant_id(self) -> str:
        return self.server.tenant_id

    @property
    def identity_header(self) -> str:
        return self.server.identity_header

    @property
    def app(self) -> EmulatorApp:
        """The emulator's state; touch it only on the emulator's loop (see ``call_in_loop``)."""
        if self.server.app is None:
            raise RuntimeError("the emulator is not started")
        return self.server.app

    @property
    def control(self) -> EmulatorControl:
        if self._control is None:
            self._control = EmulatorControl(self.endpoint, self.ca_path)
        return self._control

    def env(self) -> dict[str, str]:
        return self.server.env()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("the emulator is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.server.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="azk-arm-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._loop = None
            raise failure[0]

    def drain_hooks(self) -> None:
        self._call(self.server.drain_hooks())

    def set_boot_handler(self, handler: BootHandler) -> None:
        """Route boot/shutdown events to ``handler`` (until the next reset restores the configured one)."""
        if self._loop is None:
            raise RuntimeError("the emulator is not started")

        def swap() -> None:
            self.app.dispatcher.handler = handler

        self._loop.call_soon_threadsafe(swap)
        self._call(self.server.drain_hooks())

    def call_in_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the emulator's loop (where boot handlers run) and return its result."""
        return self._call(coro)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop = None
        self._thread = None

    def __enter__(self) -> ArmEmulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
