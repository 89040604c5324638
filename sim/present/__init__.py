"""Presentation: the planners' report and its figures, from a results folder.

Nothing here runs a simulation: :func:`sim.present.report.make_report` reads a folder
through :func:`sim.results.read` and writes ``report.html`` and ``figures/``. Importing this
package (or any module in it) imports no plotting library: matplotlib is loaded only where a
figure is drawn, and figures are drawn on their own canvas (pyplot and the backend of an
interactive session are never touched).

Modules
-------
format
    The one number formatter (text, tables, money axes).
theme
    Fonts (with fallback for any script), sizes, the colour-blind palette, titles, notes,
    saving.
data
    What figures and text read from the results, in display units.
bars
    Horizontal bars with interval whiskers.
fig_waits, fig_time, fig_services, fig_flow, fig_costs, fig_compare, fig_sweep, fig_diagnostics
    One module per family of figures.
findings
    The finding each figure's title states.
narrative
    The plain-English summary, every number tagged with its CSV cell.
assumptions
    Each setting's source, read from the comments of the scenario files.
page
    The self-contained HTML page.
report
    :func:`~sim.present.report.make_report` and the list of figures.
"""
