"""HTTP.

Owns the Flask app factory, blueprints, API keys and scopes, rate limits and error handlers. A route parses, calls
one function of a lower layer and returns JSON. May import every lower layer.
"""
