"""Domain logic. Services take a Session and never commit: the caller owns the transaction."""
