"""The management side: RabbitMQ's management HTTP API (`api.py`, JSON shapes in `views.py`),
Prometheus `/metrics` (`metrics.py`), served over HTTP/1.1 by `http.py` on the server's loop."""
