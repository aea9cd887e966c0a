"""Exporting the shipped models to ONNX (parts, exporter, int8 quantization)."""
