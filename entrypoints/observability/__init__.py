"""Logs, request ids and metrics: what the service tells its operators."""
