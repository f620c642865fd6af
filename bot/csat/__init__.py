"""Customer satisfaction surveys: asked at the end of a conversation, answered 1-5."""
