"""Azure customData encoding: base64 of the cloud-init document, gzip-compressed when it would not fit.

Azure rejects customData longer than 65,535 characters of base64. cloud-init recognises gzip-compressed
user data by its magic bytes, so compressing changes nothing for the VM.
"""

from __future__ import annotations

import base64
import binascii
import gzip

from azk_operator.bootstrap.errors import CustomDataTooLargeError, DocumentParseError

CUSTOM_DATA_LIMIT = 65535
_GZIP_MAGIC = b"\x1f\x8b"


def encode_custom_data(document: str) -> str:
    """The base64 customData for ``document``; plain when it fits (easier to read), else gzip."""
    raw = document.encode()
    encoded = base64.b64encode(raw).decode("ascii")
    if len(encoded) <= CUSTOM_DATA_LIMIT:
        return encoded
    # mtime=0 keeps the encoding a pure function of the document.
    compressed = base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")
    if len(compressed) > CUSTOM_DATA_LIMIT:
        raise CustomDataTooLargeError(
            f"cloud-init document is {len(compressed)} base64 characters compressed; the limit is "
            f"{CUSTOM_DATA_LIMIT}"
        )
    return compressed


def decode_custom_data(custom_data: str) -> str:
    """The cloud-init document inside base64 customData (compressed or not)."""
    try:
        raw = base64.b64decode(custom_data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise DocumentParseError("customData is not base64") from error
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except OSError as error:
            raise DocumentParseError("customData is damaged gzip") from error
    try:
        return raw.decode()
    except UnicodeDecodeError as error:
        raise DocumentParseError("customData is not UTF-8 text") from error
