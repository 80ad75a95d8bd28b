"""Views of Results: ``assemble`` (one report of a comparison: its sections, their order, the
device stamp), ``outputs`` (every view of that report in one call), ``terminal/`` (rich),
``html/`` (plotly), ``export`` (JSON, CSV, Markdown) and ``markdown`` (the analytic tables).
Presentation lives here, never in analyzers; nothing here imports ``archprobe.cli``.

Example::

    from archprobe.analysis.compare import compare
    from archprobe.report.assemble import assemble
    from archprobe.report.outputs import Outputs, write_outputs

    report = assemble(compare(["resnet50", "resnext50"]))
    write_outputs(report, Outputs(html=Path("r.html"), csv=Path("r.csv")))
"""
