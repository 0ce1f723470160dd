"""How the site runs: the production server and its processes, the Celery worker, readiness, Redis, model slots."""
