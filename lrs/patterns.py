r"""Whole-string patterns: the one way the LRS checks the shape of an identifier.

``re.match`` with a pattern that ends in ``$`` accepts a final newline (``$``
matches before one), so ``"<uuid>\n"`` would pass for a UUID and
``"course-v1:X+Y+1\n"`` for a second course. Every shape check is made with
``Whole``, which matches the entire string (``re.fullmatch``): no final
newline, no control character a pattern does not name. ``tests/test_patterns.py``
holds the package to it and feeds every pattern's valid values with control
characters appended and inserted.
"""

import re

#: An e-mail address as users, enrollments and ``mailto:`` IRIs take it: one ``@``,
#: something on each side, no space and no control character.
EMAIL = r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+"


class Whole:
    """A check that a value is a string a pattern matches from its first to its last character.

    ``Whole(r"[0-9a-f]{40}")("ab...")`` is ``True`` or ``False``; ``matched``
    gives the match object (for groups). Anything but a ``str`` is ``False``.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        """Compile ``pattern``, written without ``^`` or ``$``: they are implied."""
        if pattern.startswith("^") or pattern.endswith("$"):
            raise ValueError(f"write {pattern!r} without ^ and $: the whole string is matched")
        self.regex = re.compile(pattern, flags)

    def __call__(self, value: object) -> bool:
        """Whether ``value`` is a string matched whole."""
        return isinstance(value, str) and self.regex.fullmatch(value) is not None

    def matched(self, value: str) -> re.Match[str] | None:
        """The match of the whole of ``value``, or ``None``."""
        return self.regex.fullmatch(value)
