"""One module per use case; each exposes one class with one public call."""
