"""The technician's diagnostics mode: the hidden entry, the PIN pad and the mode's pages."""
