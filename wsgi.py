"""The WSGI entry point: ``gunicorn wsgi:app``."""

from lrs.api import create_app
from lrs.serve import tune_garbage_collector

app = create_app()
# This module is a server's entry point (gunicorn, uWSGI, mod_wsgi): the
# process serves this app and nothing else.
tune_garbage_collector()
