"""Length-prefixed pickle frames over pipes between the host and its workers.

Host to worker frames are ordinary pickles (the host is trusted). Worker to host frames are read with
an unpickler that cannot load any class or function, only the built-in plain types, because a worker that
ran untrusted code is not trusted: a crafted pickle must not be able to run code in the host.
"""

from __future__ import annotations

import io
import os
import pickle
import struct

HEADER = struct.Struct("<I")
# Larger frames from a worker are a protocol violation; the worker limits return values well below this.
MAX_FRAME_BYTES = 64 * 2**20


class ProtocolError(Exception):
    """A worker sent something that is not a well-formed frame of plain data."""


class PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise ProtocolError(f"worker frame refers to {module}.{name}; only plain data is accepted")


def loads_plain(data: bytes) -> object:
    try:
        return PlainUnpickler(io.BytesIO(data)).load()
    except ProtocolError:
        raise
    except Exception as e:
        raise ProtocolError(f"malformed worker frame: {type(e).__name__}: {e}") from None


def encode_frame(obj: object) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_exact(fd: int, size: int) -> bytes | None:
    """Blocking read of exactly `size` bytes; None at end of file."""
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> object | None:
    """Blocking read of one trusted frame (worker side); None when the host closed the pipe."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    payload = read_exact(fd, HEADER.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


class FrameReader:
    """Splits bytes arriving from a worker into plain-data frames (host side)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[object]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            if size > MAX_FRAME_BYTES:
                raise ProtocolError(f"worker frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
            end = HEADER.size + size
            if len(self.buffer) < end:
                break
            frames.append(loads_plain(bytes(self.buffer[HEADER.size:end])))
            del self.buffer[:end]
        return frames
