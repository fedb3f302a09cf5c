"""The dataset panel's augmentation row for image data: shift by up to N pixels, flip.

``AugmentControls`` shows an ``Augmentation`` (or none) and emits ``edited`` with the new
one (None when it does nothing) and whether the edit may merge with the previous one
(a spin box stepped repeatedly is one undo step); the panel makes it a design edit.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QWidget

from core.datasets import Augmentation
from core.datasets.augment import MAX_SHIFT

__all__ = ["AugmentControls"]


class AugmentControls(QWidget):
    """A shift spin box (0 to ``MAX_SHIFT`` pixels) and a flip check box."""

    #: (Augmentation or None, merge): the user changed the augmentation.
    edited = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shift_spin = QSpinBox()
        self.shift_spin.setRange(0, MAX_SHIFT)
        self.shift_spin.setPrefix("shift ±")
        self.shift_spin.setSuffix(" px")
        self.shift_spin.setToolTip(
            "Move each training image by a random whole number of pixels, up to this many "
            "in each direction, filling the border with zeros. Validation images are never "
            "changed; the run's seed decides the moves, so runs repeat exactly.")
        self.flip_box = QCheckBox("flip")
        self.flip_box.setToolTip("Mirror half the training images left to right, at random "
                                 "(seeded). Leave it off for data whose meaning flips, such "
                                 "as digits and letters.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.shift_spin)
        layout.addWidget(self.flip_box)
        layout.addStretch(1)
        self.setToolTip("Augmentation: random changes to each training batch, so the "
                        "network sees more variety than the images themselves.")
        self.shift_spin.valueChanged.connect(self._on_shift_changed)
        self.flip_box.toggled.connect(self._on_flip_toggled)

    def augmentation(self) -> Augmentation | None:
        """What the controls show; None when it changes nothing."""
        augmentation = Augmentation(self.shift_spin.value(), self.flip_box.isChecked())
        return augmentation if augmentation.active else None

    def show_augmentation(self, augmentation: Augmentation | None) -> None:
        """Show ``augmentation`` without emitting ``edited``."""
        augmentation = augmentation or Augmentation()
        blockers = [QSignalBlocker(self.shift_spin), QSignalBlocker(self.flip_box)]
        if self.shift_spin.value() != augmentation.shift:
            self.shift_spin.setValue(augmentation.shift)
        self.flip_box.setChecked(augmentation.flip)
        del blockers

    def _on_shift_changed(self, _value: int) -> None:
        self.edited.emit(self.augmentation(), True)

    def _on_flip_toggled(self, _checked: bool) -> None:
        self.edited.emit(self.augmentation(), False)
