"""Serving: the HTTP API and the web app, over one shared `Service`."""
