"""The high-water mark kept between runs, so nothing is read twice and nothing is skipped.

The state is the cursor value and source id of the last item sent, plus the next
`producer_seq`. It is saved only after the page's events were accepted by the
sink, and saved conditionally (an ETag on the blob, a compare on the file), so two
overlapping runs can never both advance it: the second one stops.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class CursorState:
    cursor_value: Any = None  # the API's ordering field of the last item sent (None: from the beginning)
    last_source_id: str | None = None  # tie-break among items with the same cursor value
    next_seq: int = 1  # producer_seq of the next event

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CursorState:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("next_seq"), int):
            raise CursorError(f"the stored cursor is not a cursor document: {text[:200]!r}")
        return cls(data.get("cursor_value"), data.get("last_source_id"), data["next_seq"])


class CursorError(RuntimeError):
    """The cursor could not be read or was advanced by another run; nothing more is sent."""


class CursorStore(Protocol):
    def load(self) -> CursorState: ...

    def save(self, state: CursorState) -> None: ...


class FileCursorStore:
    """A JSON file (local runs and tests); written to a temporary name and renamed, so never half-written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._loaded: str | None = None

    def load(self) -> CursorState:
        if not self.path.exists():
            self._loaded = None
            return CursorState()
        self._loaded = self.path.read_text(encoding="utf-8")
        return CursorState.from_json(self._loaded)

    def save(self, state: CursorState) -> None:
        current = self.path.read_text(encoding="utf-8") if self.path.exists() else None
        if current != self._loaded:
            raise CursorError(f"{self.path} was changed by another run since it was read")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        text = state.to_json()
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)
        self._loaded = text


class BlobCursorStore:
    """A blob in the Function's host storage account, read and written with its managed identity.

    Writes are conditional on the ETag read (If-Match), or on the blob not existing
    yet (If-None-Match: *), so a concurrent writer makes this run stop instead of
    overwriting a newer cursor.
    """

    def __init__(self, blob_url: str, credential: Any) -> None:
        from azure.storage.blob import BlobClient

        self._blob = BlobClient.from_blob_url(blob_url, credential=credential)
        self._etag: str | None = None

    def load(self) -> CursorState:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            download = self._blob.download_blob()
        except ResourceNotFoundError:
            self._etag = None
            return CursorState()
        self._etag = download.properties.etag
        return CursorState.from_json(download.readall().decode("utf-8"))

    def save(self, state: CursorState) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        try:
            if self._etag is None:
                result = self._blob.upload_blob(state.to_json(), overwrite=False)
            else:
                result = self._blob.upload_blob(
                    state.to_json(), overwrite=True, etag=self._etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceModifiedError, ResourceExistsError) as exc:
            raise CursorError("the cursor blob was advanced by another run since it was read") from exc
        self._etag = result["etag"]
