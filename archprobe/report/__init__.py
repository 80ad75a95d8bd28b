"""Views of Results: ``terminal/`` (rich), ``html/`` (plotly) and ``export`` (JSON, CSV, Markdown).
Presentation lives here, never in analyzers."""
