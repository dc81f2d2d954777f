"""otlspec: a formal-methods workbench for distributed traces."""

__version__ = "0.1.0"
