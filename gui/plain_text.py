"""User text (file names, design and run names, messages quoting file content) shown as
plain text, never interpreted as HTML.

A ``QLabel`` or ``QMessageBox`` guesses rich text from the text itself, so a file named
``<h1>BIG<h1>.json`` would render as a heading. Labels that show user text are set to
``Qt.PlainText``; message boxes (shown through ``QMessageBox``'s static functions, which
cannot take a text format) and tooltips get the text HTML-escaped inside an explicit
rich-text wrapper (``verbatim``), which displays exactly the characters given.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain(label: QLabel) -> QLabel:
    """Make ``label`` show its text verbatim; returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def verbatim(text: str) -> str:
    """``text`` for a ``QMessageBox`` or a tooltip: shown as written, line breaks kept."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
