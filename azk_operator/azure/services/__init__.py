"""One service per Azure resource kind; each computes its parameters from the existing object."""
