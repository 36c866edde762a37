"""``upstream serve``: the live board, a JSON API, Prometheus metrics, calendars, feeds and badges."""
