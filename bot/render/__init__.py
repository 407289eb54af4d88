"""Embeds and charts built from report records."""
