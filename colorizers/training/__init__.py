"""Training-only code: data fetching helpers, the photo filter, crops, training loops, trainers, evaluation.

Serving (the registry, the models' inference, the CLI's colorize, the site) never imports this package.
"""
