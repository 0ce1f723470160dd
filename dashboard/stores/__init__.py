"""Where uploads, results and video jobs are kept: in memory, or in Redis in the scaled set-up."""
