"""The REST API: routers, schemas, error mapping and the request-level guards."""
