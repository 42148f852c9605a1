"""A runnable stand-in of the Course Creator Platform: its admin REST API, rules and demo data.

Start it with `python -m sandbox` (see README.md); build the app with `sandbox.app.create_app`;
run it on a free local port from Python with `sandbox.server.start_in_thread`.
"""

__version__ = "1.0.0"
