"""The visit: the state machine, its events and effects, the controller that carries them out,
receipts and what is spoken."""
