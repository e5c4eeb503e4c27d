"""The local mail adapter: each mail becomes a JSON file in a directory,
readable through the local-only ``GET /v1/notifications/dev/mailbox``."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mindlinks_notification.providers import Mail


class LocalMailbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, mail: Mail) -> None:
        sent_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        entry = {
            "id": mail.id,
            "to": mail.to_email,
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
            "template": mail.template,
            "data": dict(mail.data),
            "sentAt": sent_at,
        }
        await asyncio.to_thread(self._write, f"{sent_at.replace(':', '')}-{mail.id}", entry)

    def _write(self, stem: str, entry: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{stem}.tmp"
        partial.write_text(json.dumps(entry, indent=2, default=str), encoding="utf-8")
        os.replace(partial, self.directory / f"{stem}.json")  # readers never see half a file

    async def messages(self, to: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first; ``to`` matches the recipient address case-insensitively."""
        return await asyncio.to_thread(self._read, to, limit)

    def _read(self, to: str | None, limit: int) -> list[dict[str, Any]]:
        if not self.directory.is_dir():
            return []
        wanted = to.casefold() if to else None
        found: list[dict[str, Any]] = []
        for path in sorted(self.directory.glob("*.json"), reverse=True):
            try:
                entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if wanted is None or str(entry.get("to", "")).casefold() == wanted:
                found.append(entry)
                if len(found) >= limit:
                    break
        return found
