"""Energy Anomaly detection engine: pure Python + numpy, no Home Assistant imports."""
