"""Tests for the Energy Anomaly integration."""
