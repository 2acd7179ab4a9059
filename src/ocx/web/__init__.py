"""The server-rendered web UI (Jinja2); it calls domain services, never the ORM directly."""
