"""Where distribution files live: a FileStorage protocol and its backends."""
