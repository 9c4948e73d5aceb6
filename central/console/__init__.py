"""The operators' console, served by kiosk-central under /console/ (central/console/routes.py)."""
