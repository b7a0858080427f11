"""Limit setting: signal windows, HistFactory workspaces, CLs scans, coupling conversion."""
