#!/usr/bin/env python3
"""Checks openapi.yaml, its examples, and real responses against it.

    check_document.py OPENAPI_YAML [--responses CAPTURED.jsonl]

1. The document is valid OpenAPI 3.1 (openapi-spec-validator).
2. Every example in it matches its schema.
3. Every captured response ({"operationId", "status", "body"} per line) matches the schema the
   document gives for that operation and status. Responses are held to exactly the documented
   fields: every object schema with properties is made closed (additionalProperties: false)
   here, though the published document leaves them open so that clients tolerate new fields.
4. Every operation has at least one captured success response.

Run by OpenAPIDocumentTests; prints one line per problem and exits 1 if there is any.
"""
import copy
import datetime
import json
import sys

import jsonschema
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:cancelflow:openapi"
problems = []


def rebase(node):
    """Points every local $ref at the document registered under BASE."""
    if isinstance(node, dict):
        return {k: (BASE + v if k == "$ref" and isinstance(v, str) and v.startswith("#/") else rebase(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [rebase(v) for v in node]
    return node


def closed(node):
    """Every object schema with properties rejects properties it does not list."""
    if isinstance(node, dict):
        out = {k: closed(v) for k, v in node.items()}
        if isinstance(out.get("properties"), dict) and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [closed(v) for v in node]
    return node


formats = jsonschema.FormatChecker()


@formats.checks("date-time", raises=ValueError)
def is_date_time(value):
    if not isinstance(value, str):
        return True
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return True


def validator_for(document):
    registry = Registry().with_resource(BASE, Resource.from_contents(rebase(document), default_specification=DRAFT202012))
    return lambda schema: jsonschema.Draft202012Validator(rebase(schema), registry=registry, format_checker=formats)


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield path, method, operation


def check_examples(document, make):
    def media_examples(where, media):
        schema = media.get("schema")
        for name, example in (media.get("examples") or {}).items():
            example = resolve(document, example)
            for error in make(schema).iter_errors(example["value"]):
                problems.append(f"example {where} {name}: {error.message} at {list(error.absolute_path)}")

    for path, method, operation in operations(document):
        body = resolve(document, operation.get("requestBody") or {})
        for media in (body.get("content") or {}).values():
            media_examples(f"{method.upper()} {path} request", media)
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            for media in (response.get("content") or {}).values():
                media_examples(f"{method.upper()} {path} {status}", media)


def check_responses(document, strict_make, captured_path):
    by_id = {op["operationId"]: (path, method, op) for path, method, op in operations(document)}
    succeeded = set()
    count = 0
    with open(captured_path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            count += 1
            found = by_id.get(record["operationId"])
            if found is None:
                problems.append(f"captured response for unknown operation {record['operationId']}")
                continue
            path, method, operation = found
            status = str(record["status"])
            responses = operation["responses"]
            response = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
            if response is None:
                problems.append(f"{method.upper()} {path}: status {status} is not documented")
                continue
            response = resolve(document, response)
            schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
            if schema is None:
                problems.append(f"{method.upper()} {path} {status}: no JSON schema documented")
                continue
            for error in strict_make(schema).iter_errors(record["body"]):
                problems.append(f"{method.upper()} {path} {status}: {error.message} at {list(error.absolute_path)}")
            if status.startswith("2"):
                succeeded.add(record["operationId"])
    missing = sorted(set(by_id) - succeeded)
    for operation_id in missing:
        problems.append(f"no success response was captured for {operation_id}")
    print(f"checked {count} captured responses over {len(succeeded)} of {len(by_id)} operations")


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    try:
        validate(document)
    except OpenAPIValidationError as error:
        problems.append(f"not valid OpenAPI 3.1: {error}")
    check_examples(document, validator_for(document))
    if "--responses" in sys.argv:
        captured = sys.argv[sys.argv.index("--responses") + 1]
        check_responses(document, validator_for(closed(copy.deepcopy(document))), captured)
    for problem in problems:
        print(problem)
    print("openapi.yaml: OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
