"""The interfaces use cases depend on; adapters implement them."""
