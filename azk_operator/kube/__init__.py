"""Kubernetes-side actuators: logins, server-side apply, cordon, PDB-aware eviction, node lookup."""
