"""Tools: what the engine may run to look for itself, read-only.

A tool has a name, a description, parameters (a pydantic model whose JSON schema a model
sees) and an async `answer`; `registry.ToolRegistry.run` validates the arguments, applies
the time limit and the output cap, masks secrets in what comes back and records the run.
Callers are the LLM's look-closer loop (engine/investigate), people and the offline
reasoner.
"""
