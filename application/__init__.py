"""Use cases and the ports they need. Imports only `domain`: no HTTP, no SQL, no framework."""
