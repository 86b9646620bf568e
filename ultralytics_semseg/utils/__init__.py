"""Metrics, plotting and output post-processing."""
