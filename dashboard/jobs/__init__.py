"""Work done for the pages and the API, without Dash: photos decoded and coloured, videos coloured in the background."""
