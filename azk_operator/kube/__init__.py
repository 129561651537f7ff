"""Kubernetes-side actuators: logins, server-side apply, cordon, PDB-aware eviction, node lookup.

Every wire call goes through `clients.KubeClients.call` (the sync `kubernetes` client in a worker thread),
so the operator's kopf handlers never block the event loop.
"""
