"""Filters shared by the handlers."""

from __future__ import annotations

from telegram.ext import filters

# Only one-to-one chats are customers: in a group, answers would be read by everyone in
# it and one conversation would mix several people. Other chats are ignored.
NEW_PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
EDITED_PRIVATE_MESSAGE = filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE
