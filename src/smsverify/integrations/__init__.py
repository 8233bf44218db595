"""Tencent Cloud credentials and API client, and the captcha and WeChat services the service calls."""
