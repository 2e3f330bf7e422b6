"""The README's settings table and the names settings.py reads cannot drift apart."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_is_documented_and_every_documented_one_is_read():
    source = (ROOT / "studio" / "settings.py").read_text()
    read = set(re.findall(r'env(?:bool|int|float|list|secret)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert read, "found no settings; did the readers get renamed?"
    assert read - documented == set(), "add these to the README's settings table"
    assert documented - read == set(), "the README documents settings that settings.py no longer reads"
