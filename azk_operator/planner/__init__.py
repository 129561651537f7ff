"""Pure planners: desired state and next steps computed from specs and observed state, without I/O.

Controllers map API models and cluster observations onto these small frozen inputs, call a planner and run
the actions it returns. Keeping this layer free of Kubernetes and Azure types is what lets the property
tests replay thousands of rollouts in seconds.
"""
