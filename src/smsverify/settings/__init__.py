"""Reading the environment: the configuration, the variable reader, scenes, secret strength."""
