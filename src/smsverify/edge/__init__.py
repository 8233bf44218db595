"""The HTTP edge: Tencent events in, integration responses out."""
