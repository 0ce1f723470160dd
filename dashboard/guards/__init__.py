"""What every request passes through: security headers, the session cookie, callback checks, fair shares, outage answers."""
