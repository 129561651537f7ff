"""Local mode: the ARM emulator, the VM boot simulator and operator runners in one background process."""
