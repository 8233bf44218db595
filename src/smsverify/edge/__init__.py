"""The HTTP edge: Tencent events, the WSGI app, integration responses."""
