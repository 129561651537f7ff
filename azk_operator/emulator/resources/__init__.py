"""Per-resource-type handlers of the ARM emulator."""
