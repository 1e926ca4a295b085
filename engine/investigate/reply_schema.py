"""The schema a model fills, in the order it should write it, and how the prompt states it.

A model writes its reply front to back: what it writes first shapes what follows. So a turn's
reply starts with `reasoning` (notes the reply model ignores), then the hypotheses and their
citations, and ends with `answer`: the answer is written from the work, not the work fitted to
an answer. The same order goes to a provider that enforces the schema (`json_schema` mode)
and into the prompt's instruction elsewhere.

Where the provider enforces the schema, the prompt says only to reply with the object (the
schema travels in `response_format`); elsewhere the schema is written compactly, TypeScript
style, at about a third of the JSON schema's tokens.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

JsonMode = Literal["json_schema", "json_object", "prompt"]

REASONING = {
    "type": "string",
    "description": "your notes, not shown: from the symptom to its cause, naming the lines",
}
# The order a reply with an `answer` is written in; other fields keep theirs, before `answer`.
FIRST = ("reasoning", "hypotheses", "working_conclusion", "confidence", "response_type")
LAST = "answer"

ENFORCED = "Reply with one JSON object only (no prose, no code fences), in the response format."
WRITTEN = (
    "Reply with one JSON object only (no prose, no code fences), with these fields in this "
    "order (`?`: may be left out):\n"
)


def reply_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema; for a reply with an `answer`, with `reasoning` first and the
    answer last."""
    schema = model.model_json_schema()
    properties: dict[str, Any] = schema.get("properties", {})
    if LAST not in properties:
        return schema
    fields = {"reasoning": REASONING, **properties}
    ordered = {name: fields[name] for name in FIRST if name in fields}
    ordered |= {k: v for k, v in fields.items() if k not in ordered and k != LAST}
    ordered[LAST] = fields[LAST]
    return {**schema, "properties": ordered}


def instruction(schema: dict[str, Any], mode: JsonMode) -> str:
    """What the prompt says about the reply's shape in this JSON mode."""
    if mode == "json_schema":
        return ENFORCED
    return WRITTEN + compact(schema)


def compact(schema: dict[str, Any]) -> str:
    """The schema as TypeScript-like types: `{"id"?: string | null, ...}`, one line per
    definition it refers to."""
    defs: dict[str, Any] = schema.get("$defs", {})
    lines = [_type(schema, defs)]
    lines += [f"{name} = {_type(body, defs)}" for name, body in defs.items()]
    return "\n".join(lines)


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in node:
        return " | ".join(_type(option, defs) for option in node["anyOf"])
    if "enum" in node:
        return " | ".join(json.dumps(value) for value in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        required = set(node.get("required", []))
        fields = [
            f"{json.dumps(name)}{'' if name in required else '?'}: {_type(body, defs)}"
            for name, body in node.get("properties", {}).items()
        ]
        return "{" + ", ".join(fields) + "}"
    if kind == "array":
        return f"[{_type(node.get('items', {}), defs)}]"
    if kind in ("number", "integer") and ("minimum" in node or "maximum" in node):
        return f"{kind} {node.get('minimum', '')}..{node.get('maximum', '')}"
    if kind == "string" and "format" in node:
        return f"string ({node['format']})"
    return str(kind or "any")
