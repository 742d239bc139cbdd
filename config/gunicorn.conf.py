"""gunicorn settings for the `web` process (Procfile). Environment overrides:
PORT, WEB_CONCURRENCY (processes), WEB_THREADS, FORWARDED_ALLOW_IPS."""

import os

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# the app logs every request itself (server/logs.py, JSON, no query strings)
accesslog = None
errorlog = "-"
