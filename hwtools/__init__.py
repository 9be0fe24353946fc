"""Helpers shared by the course notebooks and the graders."""
