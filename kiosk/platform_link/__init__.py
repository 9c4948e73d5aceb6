"""The terminal's link to the platform: the sync worker's wiring, and the embedded platform that
``kiosk run --simulate`` starts as its own process."""
