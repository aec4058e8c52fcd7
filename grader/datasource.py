"""What a dataset source gives the split builder: class names, image keys, and a decoder.

CIFAR-10 (`grader.data`) and image folders (`grader.imagefolder`) are two kinds of source;
the split builder (`grader.data.select_images`) sees only this interface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

PARTS = ("train", "test")  # the source's own parts; `test` may be missing from a folder


@dataclass
class DataSource:
    """Images addressable by (part, class index, key), decoded at the assignment's size.

    `members[part][c]` lists the keys of class `classes[c]` in `part`, sorted; a source
    without a `test` part has no `"test"` entry (hidden-test images then come from `train`).
    `decode(part, keys)` returns uint8 RGB images, shape (n, height, width, 3), in key order.
    """

    description: str  # where the images are, as an instructor recognises it
    fingerprint: str  # content hash: same images, same fingerprint, wherever they live
    classes: tuple[str, ...]
    members: Mapping[str, list[list[str]]]  # a mapping that may list them on first use
    decode: Callable[[str, list[str]], np.ndarray]
    notes: tuple[str, ...] = ()  # for the instructor: files skipped while listing, and why

    @property
    def has_test(self) -> bool:
        return "test" in self.members

    def count(self, part: str, cls: str) -> int:
        """How many images class `cls` has in `part` (0 for a part the source lacks)."""
        if part not in self.members:
            return 0
        return len(self.members[part][self.classes.index(cls)])
