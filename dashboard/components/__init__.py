"""Widgets shared by the pages: the navbar, the drop zone, the reference picker and result views."""
