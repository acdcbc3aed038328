"""A pull-through cache of upstream simple indexes, for names with no local project."""
