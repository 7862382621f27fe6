"""Segments: entity introspection, rule validation, compilation to SQL and membership."""
