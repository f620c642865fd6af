"""Customer channels: each adapts one protocol to the message pipeline."""
