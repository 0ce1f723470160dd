"""`python -m dashboard`: the development server on colorizers.settings.HOST and PORT."""
from __future__ import annotations

import logging

from colorizers import settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .app import app  # after logging is set up, so the app's start-up messages are shown
    from .server.readiness import start_warming

    start_warming()
    app.run(host=settings.HOST, port=settings.PORT, debug=False)


if __name__ == "__main__":
    main()
