"""The device layer: interfaces, drivers and simulators for card readers, printers and cameras.

Nothing here imports Qt: events reach the application from worker threads through plain callbacks.
"""
