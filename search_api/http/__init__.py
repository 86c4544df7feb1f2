"""HTTP.

Owns the Flask app factory, blueprints, API-key checks and error handlers. A route parses, calls
one function of a lower layer and returns JSON. May import every lower layer.
"""
