"""The staff web app: agent console, sign-in and roles, conversation review, KPI
dashboard, FAQ gaps, analytics and privacy tools.

It sits on top of the customer side (``bot/``: gateway, channels, pipeline, transcript
log) and reads its stores; nothing under ``bot/`` imports it except the composition
roots (``bot.app``, ``bot.cli``, the migration environment) that put the two together.
"""
