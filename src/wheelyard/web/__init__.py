"""The HTML side: thin views that parse, call a service and render a template."""
