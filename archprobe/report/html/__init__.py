"""Offline HTML views (plotly): the comparison report, the sweep report, and the page they share."""
