"""/openapi.json's schemas as exact as the server (issue 22, item 4): integer amounts with
integer bounds, one Currency and one Metadata component, the feed's type filter as an enum,
the metadata search filter as a deepObject parameter, request examples that the schemas (and
the server) accept, and a time without an offset refused with a message that says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
from httpx import AsyncClient

from application.events import EVENT_TYPES
from domain.currency import MINOR_UNITS
from tests.http.helpers import assert_problem, opened, signed_up


async def spec(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def walk(node: Any) -> list[dict[str, Any]]:
    """Every object in the document, depth first."""
    found: list[dict[str, Any]] = []
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found.append(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


async def test_integers_say_their_format_and_integer_bounds(client: AsyncClient) -> None:
    document = await spec(client)
    integers = [node for node in walk(document) if node.get("type") == "integer"]
    assert integers
    for node in integers:
        assert node["format"] in ("int32", "int64"), node
        assert isinstance(node["minimum"], int), node
        assert isinstance(node["maximum"], int), node
        assert "exclusiveMaximum" not in node, node
        assert "exclusiveMinimum" not in node, node
    amount = document["components"]["schemas"]["TransferIn"]["properties"]["amount"]
    assert (amount["format"], amount["minimum"], amount["maximum"]) == ("int64", 1, 2**63 - 1)


async def test_one_currency_and_one_metadata_schema_for_requests_and_answers(
    client: AsyncClient,
) -> None:
    document = await spec(client)
    schemas = document["components"]["schemas"]
    assert schemas["Currency"]["enum"] == sorted(MINOR_UNITS)
    # The 164 codes are written once: every other currency is a reference to them.
    assert sum(node.get("enum") == sorted(MINOR_UNITS) for node in walk(document)) == 1
    currency = {"$ref": "#/components/schemas/Currency"}
    for name in ("TransferIn", "OpenAccountIn", "AccountOut", "TransferOut"):
        assert schemas[name]["properties"]["currency"] == currency, name
    metadata = schemas["Metadata"]
    assert metadata["maxProperties"] == 20
    assert metadata["propertyNames"]["pattern"] == "^[A-Za-z0-9_.-]{1,40}$"
    assert metadata["additionalProperties"]["type"] == "string"
    assert metadata["additionalProperties"]["maxLength"] == 500
    assert "patternProperties" not in str(document)  # it admitted anything under other keys
    assert schemas["AccountOut"]["properties"]["metadata"] == {
        "$ref": "#/components/schemas/Metadata"
    }
    validator = jsonschema_rs.validator_for(metadata)
    assert validator.is_valid({"order_id": "A-1"})
    assert not validator.is_valid({"order_id": {"nested": "x"}})
    assert not validator.is_valid({"bad key": "x"})
    assert not validator.is_valid({f"k{i}": "v" for i in range(21)})


async def test_the_feed_type_filter_is_an_enum_and_metadata_a_deep_object(
    client: AsyncClient,
) -> None:
    document = await spec(client)
    (kind,) = [
        p for p in document["paths"]["/api/v1/events"]["get"]["parameters"] if p["name"] == "type"
    ]
    assert kind["schema"]["items"]["enum"] == sorted(EVENT_TYPES)
    search = document["paths"]["/api/v1/transfers"]["get"]["parameters"]
    (metadata,) = [p for p in search if p["name"] == "metadata"]
    assert (metadata["in"], metadata["style"], metadata["explode"]) == ("query", "deepObject", True)

    auth = await signed_up(client)
    account = await opened(client, auth)
    for source in ("payroll", "gift"):
        deposit = await client.post(
            f"/api/v1/accounts/{account}/deposits",
            json={"amount": 100, "metadata": {"source": source}},
            headers=auth,
        )
        assert deposit.status_code == 201, deposit.text
    found = await client.get("/api/v1/transfers?metadata[source]=gift", headers=auth)
    assert found.status_code == 200, found.text
    assert [item["metadata"] for item in found.json()["items"]] == [{"source": "gift"}]


async def test_request_examples_are_valid_for_their_schemas(client: AsyncClient) -> None:
    document = await spec(client)
    checked = 0
    for methods in document["paths"].values():
        for operation in methods.values():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None or "example" not in content:
                continue
            schema = {**content["schema"], "components": document["components"]}
            errors = list(jsonschema_rs.validator_for(schema).iter_errors(content["example"]))
            assert not errors, (operation["operationId"], [str(error) for error in errors])
            assert "reference" not in content["example"]  # unique: a retry would conflict
            checked += 1
    assert checked == 8


async def test_a_time_without_an_offset_is_refused_with_how_to_fix_it(
    client: AsyncClient,
) -> None:
    auth = await signed_up(client)
    account = await opened(client, auth)
    naive = await client.get(
        f"/api/v1/accounts/{account}/balance", params={"at": "2026-01-01T00:00:00"}, headers=auth
    )
    problem = assert_problem(naive, 422, "validation-error")
    assert "add an offset" in problem["detail"]
    aware = await client.get(
        f"/api/v1/accounts/{account}/balance", params={"at": "2026-01-01T00:00:00Z"}, headers=auth
    )
    assert aware.status_code == 200, aware.text


async def test_feed_items_are_events_discriminated_by_type_as_docs_events_md_says(
    client: AsyncClient,
) -> None:
    document = await spec(client)
    schemas = document["components"]["schemas"]
    assert schemas["EventFeedOut"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Event"
    }
    event = schemas["Event"]
    assert event["discriminator"]["propertyName"] == "type"
    mapping = event["discriminator"]["mapping"]
    assert set(mapping) == EVENT_TYPES
    data = {
        "TransferEvent": "TransferOut",
        "AccountEvent": "AccountOut",
        "UserEvent": "UserOut",
        "ApiKeyEvent": "ApiKeyEventData",
        "WebhookEndpointEvent": "WebhookEndpointEventData",
        "ConversionEvent": "ConversionEventData",
        "MonitorEvent": "MonitorEventData",
    }
    for kind, reference in mapping.items():
        name = reference.rsplit("/", 1)[-1]
        variant = schemas[name]
        assert kind in variant["properties"]["type"]["enum"]
        assert variant["properties"]["data"] == {"$ref": f"#/components/schemas/{data[name]}"}

    # docs/events.md's schema (version 1) names the same types and the same fields.
    text = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    block = text[text.index("## Schema (version 1)") :]
    documented = json.loads(block[block.index("```json") + 7 : block.index("```\n", 10)])
    assert set(documented["properties"]["type"]["enum"]) == EVENT_TYPES
    for name in data:
        assert set(schemas[name]["required"]) == set(documented["required"])
        accounts = documented["properties"]["accounts"]["items"]
        assert set(schemas["EventAccount"]["required"]) == set(accounts["required"])
