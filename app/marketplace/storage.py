"""Uploaded files (cameo previews, liveness recordings) under the instance folder,
content-addressed by sha256, checked by their magic bytes (never the client's
declared content type) and their size."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from app.errors import ValidationProblem

IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
RECORDING_TYPES = {
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "audio/wav": ".wav",
    "audio/ogg": ".ogg",
    "video/quicktime": ".mov",
}


def sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_recording(data: bytes) -> str | None:
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    return None


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the store's root
    sha256: str
    content_type: str
    size: int


class FileStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def put(self, folder: str, data: bytes, extension: str) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{folder}/{digest}{extension}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return relative, digest

    def path(self, relative: str) -> Path:
        return self.root / relative

    def store_checked(
        self, folder: str, data: bytes, *, field: str, max_bytes: int, sniff, types: dict[str, str], what: str
    ) -> StoredFile:
        if not data:
            raise ValidationProblem(errors={field: "the file is empty"})
        if len(data) > max_bytes:
            raise ValidationProblem(
                errors={field: f"the file is larger than {max_bytes} bytes"}, status=413, title="Upload too large"
            )
        content_type = sniff(data)
        if content_type is None:
            raise ValidationProblem(
                errors={field: f"not a {what} (accepted: {', '.join(types)})"},
                status=415,
                title="Unsupported file type",
            )
        relative, digest = self.put(folder, data, types[content_type])
        return StoredFile(relative, digest, content_type, len(data))
