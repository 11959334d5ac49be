"""The WSGI entry point: ``gunicorn wsgi:app``."""

from lrs.api import create_app

app = create_app()
