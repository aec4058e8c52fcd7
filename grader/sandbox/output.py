"""A child's output as the grader keeps it: read in fixed-size chunks, each line cut to
LINE_MAX_BYTES, only the last LOG_TAIL_BYTES held, however much the child prints.

Everything a child prints is log text (data for a report), never a message to the grader:
student code runs in the child's process and could print anything, a gigabyte without a
newline included. Reading line by line (`for line in pipe`) buffers a whole line; here the
memory held is one chunk, one cut line and the tail, whatever arrives.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import IO

LOG_TAIL_BYTES = 16_000  # of the end of a child's output, kept for its log tail
LINE_MAX_BYTES = 4096  # of each line, kept (the rest is dropped and counted)
CHUNK_BYTES = 64 * 1024  # one read from the pipe


class Tail:
    """The last lines of a child's output, each cut to LINE_MAX_BYTES, LOG_TAIL_BYTES in all.

    Fed by one reader thread; `text()` may be read meanwhile (a pipe an escaped process
    still holds open keeps the reader going).
    """

    def __init__(self, tail_bytes: int = LOG_TAIL_BYTES, line_bytes: int = LINE_MAX_BYTES) -> None:
        self.tail_bytes, self.line_bytes = tail_bytes, line_bytes
        self.lines: deque[bytes] = deque()
        self.size = 0  # bytes in `lines`
        self.line = bytearray()  # the line being read, at most `line_bytes`
        self.dropped = 0  # bytes of the line being read beyond `line_bytes`
        self.total = 0  # bytes read in all
        self.lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        """Add a chunk of output; complete lines go to the tail."""
        with self.lock:
            self.total += len(chunk)
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                self._extend(chunk, start, end)
                self._finish(b"\n")
                start = end + 1
            self._extend(chunk, start, len(chunk))

    def close(self) -> None:
        """The output ended: keep its last line even without a newline."""
        with self.lock:
            if self.line or self.dropped:
                self._finish(b"")

    def text(self) -> str:
        """The kept tail, decoded (invalid UTF-8 replaced), at most `tail_bytes` characters."""
        with self.lock:
            kept = b"".join(self.lines)
        return kept.decode("utf-8", "replace")[-self.tail_bytes :]

    def _extend(self, chunk: bytes, start: int, end: int) -> None:
        room = max(0, self.line_bytes - len(self.line))
        keep = min(end, start + room)
        self.line += chunk[start:keep]
        self.dropped += end - keep

    def _finish(self, ending: bytes) -> None:
        line = bytes(self.line)
        if self.dropped:
            line += f" [... {self.dropped:,} more bytes of this line not kept]".encode()
        self._push(line + ending)
        self.line, self.dropped = bytearray(), 0

    def _push(self, line: bytes) -> None:
        self.lines.append(line)
        self.size += len(line)
        while self.size > self.tail_bytes and len(self.lines) > 1:
            self.size -= len(self.lines.popleft())


def drain(stream: IO[bytes], tail: Tail) -> None:
    """Read `stream` (a pipe) to its end into `tail`, then close it: the reader thread's job.

    `os.read` on its descriptor returns what the pipe holds, up to CHUNK_BYTES, never waiting
    for a newline; the stream's own buffer is never used.
    """
    try:
        while chunk := os.read(stream.fileno(), CHUNK_BYTES):
            tail.feed(chunk)
    except OSError:
        pass  # the pipe went away: what was read is the output
    finally:
        tail.close()
        stream.close()


def start_reader(stream: IO[bytes]) -> tuple[Tail, threading.Thread]:
    """A daemon thread draining `stream` into a new Tail (it closes the stream at the end)."""
    tail = Tail()
    reader = threading.Thread(target=drain, args=(stream, tail), name="grader-child-output")
    reader.daemon = True
    reader.start()
    return tail, reader
