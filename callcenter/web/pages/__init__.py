"""Server-rendered pages (Jinja2): built from the same service calls as their API twins."""
