"""smsverify: SMS verification codes for Tencent Cloud SCF (getSms / login).

The entry point is :func:`smsverify.edge.handler.create_handler`; the root
``handler.py`` exposes it as ``main_handler`` for SCF.
"""

__version__ = "0.1.0"
