"""The Flask routes beside the pages: images, the REST API, uploads, and the URLs that name them."""
