"""Re-export: the stack runner lives in bot/local_stack.py (the benchmark uses it too)."""

from bot.local_stack import OUTPUT, PROJECT, Stack, make_stack

__all__ = ["OUTPUT", "PROJECT", "Stack", "make_stack"]
