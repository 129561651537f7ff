"""azk: self-managed Kubernetes clusters on Azure."""

__version__ = "0.1.0"
