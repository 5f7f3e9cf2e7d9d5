"""Console pages, one module per page family; HTMX partials render with their page."""
