"""Presentation: number formatting, figures and the planners' HTML report.

Nothing here runs a simulation; everything reads a results folder (:mod:`sim.results`)
or the tables in it. Importing this package imports no plotting library: matplotlib is
loaded (with a non-interactive backend) only where a figure is drawn.
"""
