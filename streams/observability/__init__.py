"""Prometheus metrics and health checks of the worker (docs/observability.md)."""
