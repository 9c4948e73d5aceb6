"""What crosses between terminal and platform: wire models, canonical JSON, signed bundles and
their payload (the catalogue among it), the code formats, the visit records.

Pure Python with pydantic and cryptography: both sides import it, and it imports nothing of theirs.
"""
