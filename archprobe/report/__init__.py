"""Renderers of Results: rich tables (table.py). Presentation lives here, never in analyzers."""
