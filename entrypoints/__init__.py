"""How the world reaches hexbank: the HTTP API, the CLI and the composition root."""
