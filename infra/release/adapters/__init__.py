"""Thin real adapters for the release tool's ports (Pulumi, Kubernetes, HTTP, Prometheus)."""
