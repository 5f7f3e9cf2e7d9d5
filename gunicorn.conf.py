"""Gunicorn settings every way of starting the web process shares (gunicorn reads ./gunicorn.conf.py).

The request line may be as long as gunicorn allows: an over-long image reference in the seed's
``/containers/{image}/start`` then reaches Django, which answers a JSON 400 naming ``image``,
instead of gunicorn's own HTML 400 at 4,094 characters.
"""

limit_request_line = 8190
