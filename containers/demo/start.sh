#!/bin/sh
# Entry point of the demo image: write a page naming this container (its hostname), then serve it,
# logging every request (-vv: the client, the path, the status) to stderr, which is the container's log.
set -eu
name=$(hostname)
cat >/www/index.html <<HTML
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${name}</title></head>
<body>
<h1>Hello from ${name}</h1>
<p>Served by busybox httpd from the orchestrator's demo image.</p>
</body>
</html>
HTML
echo "demo: ${name} serving /www on port 8080; each request is logged below" >&2
exec httpd -f -vv -p 8080 -h /www
