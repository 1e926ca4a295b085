"""Files that are text but not logs: Markdown notes, runbooks, scripts and code snippets.

Kept as text, with what a reader uses to find their way: the language and the headings.
"""

from __future__ import annotations

import re

_EXTENSIONS = {
    "md": "Markdown",
    "markdown": "Markdown",
    "rst": "reStructuredText",
    "txt": None,
    "py": "Python",
    "go": "Go",
    "java": "Java",
    "kt": "Kotlin",
    "js": "JavaScript",
    "ts": "TypeScript",
    "rb": "Ruby",
    "rs": "Rust",
    "c": "C",
    "h": "C",
    "cc": "C++",
    "cpp": "C++",
    "cs": "C#",
    "php": "PHP",
    "sh": "shell",
    "bash": "shell",
    "sql": "SQL",
    "tf": "Terraform",
    "hcl": "HCL",
    "dockerfile": "Dockerfile",
}
_SHEBANG = re.compile(r"#!\s*\S*?(?:env\s+)?(python|bash|sh|node|ruby|perl)")
_SHEBANG_LANGUAGES = {
    "python": "Python",
    "bash": "shell",
    "sh": "shell",
    "node": "JavaScript",
    "ruby": "Ruby",
    "perl": "Perl",
}
_CONTENT_HINTS = (
    (re.compile(r"^package \w+$", re.M), "Go"),
    (re.compile(r"^(?:def |class \w+[:(]|import \w+$|from [\w.]+ import )", re.M), "Python"),
    (re.compile(r"^(?:public |private )?(?:final )?class \w+.*\{", re.M), "Java"),
    (re.compile(r"^(?:SELECT|WITH|CREATE TABLE|INSERT INTO) ", re.M | re.I), "SQL"),
    (re.compile(r"^#{1,6} \S", re.M), "Markdown"),
)
_HEADING = re.compile(r"#{1,6} +(\S.*?)\s*#*\s*$")
MAX_HEADINGS = 30
HEADING_CHARS = 80


def language_of(name: str, head: str) -> str | None:
    """The language of a text file from its name, else from its first lines."""
    base = name.rsplit("/", 1)[-1].lower()
    extension = "dockerfile" if base == "dockerfile" else base.rsplit(".", 1)[-1]
    if "." in base or extension == "dockerfile":
        language = _EXTENSIONS.get(extension)
        if language is not None:
            return language
    shebang = _SHEBANG.match(head)
    if shebang:
        return _SHEBANG_LANGUAGES[shebang.group(1)]
    for pattern, language in _CONTENT_HINTS:
        if pattern.search(head):
            return language
    return None


def heading(line: str) -> str | None:
    """The title of a Markdown heading line ('## Symptoms' -> 'Symptoms'), else None."""
    if not line.startswith("#"):
        return None
    m = _HEADING.match(line)
    return m.group(1)[:HEADING_CHARS] if m else None
