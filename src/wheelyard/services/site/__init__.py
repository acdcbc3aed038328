"""The whole site's settings that administrators change while it runs."""
