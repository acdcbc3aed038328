"""Access: who may read a private index, and (as it grows) private projects, readers and
teams. Uses accounts for credentials; the index will ask it what a reader may see."""
