"""FAQ gaps: questions the bot missed, clustered and ranked, turned into FAQ content."""
