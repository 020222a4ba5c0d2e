"""The carrier's use cases. Each function takes explicit inputs, flushes and never commits."""
