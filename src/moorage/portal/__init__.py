"""The web portal at /portal on the management host: server-rendered pages (Jinja2 + htmx,
no build step) over the management service, with the management API's roles."""
