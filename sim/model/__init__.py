"""The SimPy model: families, services and their journeys. Never reads files, plots or prints."""

from sim.model.world import World, simulate

__all__ = ["World", "simulate"]
