"""Thin kopf handlers: load the object into its model, call the planner, run the actuators, write status."""
