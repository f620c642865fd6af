"""The conversation log: every message in and out, with what the bot understood."""
