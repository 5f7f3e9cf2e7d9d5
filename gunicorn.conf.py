"""Gunicorn settings every way of starting the web process shares (gunicorn reads ./gunicorn.conf.py).

The request line may be as long as gunicorn allows: an over-long image reference in the seed's
``/containers/{image}/start`` then reaches Django, which answers a JSON 400 naming ``image``,
instead of gunicorn's own HTML 400 at 4,094 characters.

Idle keep-alive connections stay open for 75 s, not gunicorn's default 2 s. At 2 s the server closed
a connection just when its client sent the next request on it: the console polls every 2 s, so its
connections idle for about that long, and the soak's clients idle 2-3 s between some requests. When
the request arrives between gunicorn's last look at the socket and its close of the expired
connection, the kernel answers the unread request with a reset, and the client sees
``ConnectionResetError(104)`` for a request the server never read (3 of 3,799 soak requests; 2 of
3,844 in a bare reproduction, 0 with this setting). A client can only avoid that race if the server
keeps a connection open longer than the client leaves it idle; 75 s is longer than any client of
ours waits between requests and longer than common proxies' idle timeouts (60 s), so the proxy, not
gunicorn, closes first. The gthread worker keeps an idle connection in its poller, not in a thread,
so an open connection costs a file descriptor and counts toward ``worker_connections`` (1,000).
"""

limit_request_line = 8190
keepalive = 75
