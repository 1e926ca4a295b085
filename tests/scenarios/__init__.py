"""Incident scenarios for measuring the investigation engine (see README.md)."""
