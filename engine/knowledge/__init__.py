"""Knowledge: runbooks, team notes and closed cases, chunked, embedded and searched.

Import the submodules (chunk, embed, documents, search, starter); this package imports nothing
heavy so that `engine.knowledge.chunk` stays cheap.
"""
