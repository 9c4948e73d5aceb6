"""Configuration: local settings, the shipped catalogue, signed bundles applied and taken up
live."""
