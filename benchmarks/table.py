"""The benchmark table in docs/performance.md (``python -m benchmarks --write``)."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN, END = "<!-- BEGIN benchmark table -->", "<!-- END benchmark table -->"


def write_table(rows: list[tuple[str, str, str]], sections: list[str]) -> None:
    """The table into docs/performance.md, between its markers (replacing the last one)."""
    import datetime
    import re

    stamp = datetime.date.today().isoformat()
    lines = [
        BEGIN,
        f"`./dev python -m benchmarks --only {','.join(sections)} --write`, {stamp}:",
        "",
        "| what | throughput | note |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        END,
    ]
    block = "\n".join(lines)
    text = DOC.read_text()
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        head, _, rest = text.partition("\n## ")
        text = f"{head}\n## The benchmark table\n\n{block}\n\n## {rest}"
    DOC.write_text(text)
