"""How runnable documentation blocks and their promised output are read and matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.docs import missing_output, runnable_blocks

DOC = """# Title

<!-- runnable -->
```sh
echo hello
```

<!-- output -->
```text
hello <name>
```

```python
print("not marked")
```

<!-- runnable -->

```python
print(1)
```
"""


def test_marked_blocks_are_found_with_their_promised_output(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_text(DOC)
    first, second = runnable_blocks(path)
    assert (first.language, first.code, first.expected) == ("sh", "echo hello\n", ("hello <name>",))
    assert (second.language, second.code, second.expected, second.line) == (
        "python",
        "print(1)\n",
        (),
        19,
    )


def test_a_marker_without_a_fenced_block_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_text("<!-- runnable -->\nplain text\n")
    with pytest.raises(ValueError, match="fenced block"):
        runnable_blocks(path)


def test_promised_lines_must_appear_in_order_with_placeholders_and_borders_folded() -> None:
    output = "┃ stack  ┃ running at http://x ┃\nanon key abc.def\n"
    assert missing_output(("stack running at <url>", "anon key <key>"), output) == []
    assert missing_output(("anon key <key>", "stack running"), output) == ["stack running"]
    assert missing_output(("database ok",), output) == ["database ok"]
