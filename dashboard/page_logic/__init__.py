"""What the pages show and decide, without Dash: testable without a browser."""
