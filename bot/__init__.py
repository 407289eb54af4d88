"""engagebot: a Discord community engagement inbox."""

__version__ = "0.1.0"
