"""Template filters of the health console pages."""
