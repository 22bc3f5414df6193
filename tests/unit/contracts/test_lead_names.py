"""The schema's character class and the validator refuse the same characters."""

from __future__ import annotations

import re
import unicodedata

from ecg_contracts.rest import REFUSED_BMP_CLASS, REFUSED_CATEGORIES, normalize_lead_name


def test_the_published_class_is_the_refused_categories_of_the_bmp_without_surrogates() -> None:
    published = re.compile(f"[{REFUSED_BMP_CLASS}]")
    for code_point in range(0x10000):
        char = chr(code_point)
        category = unicodedata.category(char)
        if category == "Cs":
            continue
        assert bool(published.fullmatch(char)) == (category in REFUSED_CATEGORIES), hex(code_point)


def test_names_come_back_normalized() -> None:
    assert normalize_lead_name("e\u0301") == "\u00e9"
    assert normalize_lead_name("\u1100\u1161\u11a8") == "\uac01"
    assert normalize_lead_name("aVR") == "aVR"
