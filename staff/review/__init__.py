"""Conversation review for supervisors: tags, review status, comments, list, export."""
