"""Apply best: put a sweep's best trial's settings into the document's design as one
undoable step ("Apply best sweep settings"), as the inspector's edits go
(``Document.set_design``). The settings go in through ``core.sweeps.space.apply``, the one
way a trial's settings enter a design; settings the edited design no longer has (a
removed layer, a value its field now refuses) are refused with a message naming them.
Called by the sweep views' button and by a sweep group's menu in the Runs panel.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from core.sweeps.space import SpaceError, apply, params_text
from gui.plain_text import verbatim
from gui.project.document import Document

__all__ = ["UNDO_TEXT", "apply_best"]

UNDO_TEXT = "Apply best sweep settings"


def apply_best(document: Document, params: dict[str, Any],
               parent: QWidget | None = None) -> bool:
    """Set ``params`` (parameter name -> value, as a trial has them) in ``document``'s
    design as one undoable step; True when the design now has them. A refusal (the
    settings no longer fit the design, or a live run declines the change) is said in a
    message box over ``parent`` and changes nothing."""
    if not params:
        QMessageBox.information(parent, UNDO_TEXT, "The sweep varied no setting that its "
                                "runs show (a sweep of one trial); use Restore design to "
                                "take that run's whole design back.")
        return False
    try:
        design = apply(document.design, params)
    except SpaceError as exc:
        QMessageBox.warning(parent, UNDO_TEXT, verbatim(
            f"The best settings ({params_text(params)}) no longer fit the design: {exc}.\n"
            "The design was edited since the sweep; the sweep's runs keep its designs "
            "(Restore design)."))
        return False
    document.set_design(design, UNDO_TEXT)
    # A live run's guard may have declined the change (it asked the user).
    return document.design == design
