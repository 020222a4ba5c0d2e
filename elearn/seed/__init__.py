"""Seed data: the demo prefecture, and county- and prefecture-scale bulk data."""
