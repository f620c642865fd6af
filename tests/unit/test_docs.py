"""The README's settings table must list every setting the code reads."""

import re
from pathlib import Path

from bot.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README.read_text(), re.MULTILINE))
    for name, field in Settings.model_fields.items():
        names = set(field.validation_alias.choices) if field.validation_alias else {
            "HELPLINE_" + name.upper()
        }
        assert names & documented, f"setting {name} ({names}) missing from README"


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.read_text().split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split()[0] for line in first_block.strip().splitlines()] == [
        "scripts/run", "scripts/test"
    ]
    assert "scripts/test" in (README.parent / ".ci" / "run").read_text()
