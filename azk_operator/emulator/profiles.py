"""Latency profiles: how long each kind of long-running operation takes.

An operation finishes once it has been *observed* ``polls`` times (status polls, Location polls or GETs of
its resource) **and** ``seconds * scale`` of wall-clock time have passed since it started. Observation
keeps tests deterministic (the fast profile finishes on the first poll, whatever the machine load); wall
time lets a benchmark or local mode feel realistic durations. Both are persisted, so a restarted emulator
continues an operation where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Profile keys are ARM types; "resourcegroups/delete" is the cascading group delete. POST actions take
# their resource type's latency.
_REALISTIC_SECONDS: dict[str, float] = {
    "microsoft.compute/virtualmachinescalesets": 90.0,
    "microsoft.compute/virtualmachinescalesets/virtualmachines": 60.0,
    "microsoft.compute/virtualmachines": 60.0,
    "microsoft.network/loadbalancers": 10.0,
    "microsoft.network/virtualnetworks": 5.0,
    "microsoft.network/virtualnetworks/subnets": 3.0,
    "microsoft.network/networkinterfaces": 3.0,
    "microsoft.network/publicipaddresses": 3.0,
    "microsoft.network/networksecuritygroups": 3.0,
    "microsoft.network/routetables": 3.0,
    "resourcegroups/delete": 30.0,
}


@dataclass(frozen=True)
class Latency:
    """Completion rule of one operation: observed ``polls`` times and ``seconds`` elapsed."""

    polls: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class LatencyProfile:
    """Per-resource-type latencies; ``scale`` multiplies every duration (0.01 turns 90 s into 0.9 s)."""

    name: str = "fast"
    default: Latency = Latency()
    per_type: dict[str, Latency] = field(default_factory=dict)
    scale: float = 1.0

    def latency(self, key: str) -> Latency:
        """The latency of an ARM type (any casing, e.g. ``Microsoft.Compute/virtualMachineScaleSets``)."""
        lowered = {name.lower(): value for name, value in self.per_type.items()}
        base = lowered.get(key.lower(), self.default)
        return Latency(polls=base.polls, seconds=base.seconds * self.scale)

    @classmethod
    def fast(cls) -> LatencyProfile:
        """Every operation finishes on its first observation."""
        return cls()

    @classmethod
    def realistic(cls, scale: float = 1.0) -> LatencyProfile:
        """Durations close to Azure's (VM scale set ~90 s, VM ~60 s, load balancer ~10 s)."""
        return cls(
            name="realistic",
            default=Latency(polls=1, seconds=2.0),
            per_type={key: Latency(polls=1, seconds=value) for key, value in _REALISTIC_SECONDS.items()},
            scale=scale,
        )

    @classmethod
    def by_name(cls, name: str, scale: float = 1.0) -> LatencyProfile:
        if name == "fast":
            return cls(scale=scale)
        if name == "realistic":
            return cls.realistic(scale)
        raise ValueError(f"unknown latency profile {name!r} (expected 'fast' or 'realistic')")
