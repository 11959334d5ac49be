"""A SQLite statement's body: its term sets and text, compressed with the store's own dictionary.

A stored statement is about 1.5 KB of JSON and its term sets another 0.5 KB,
and SQLite keeps a row whole on one 4 KB page when it can: one statement a
page, half of it empty. Compressed alone (zstd), a body shrinks to about
40%; compressed with a dictionary trained on the statements the store already
holds (their IRIs, names and keys), to about a tenth, so that a page holds a
dozen statements and a batch writes a tenth of the pages.

Dictionaries are kept in ``statement_dictionaries``, never changed or removed
once written (old bodies keep naming theirs). Each zstd frame names its
dictionary by id (0: none), so a body is read with the one it was written
with. The store trains one when it first holds 1,000 statements, and again
at 10,000, 100,000 and so on, from the latest 1,000 (a store's vocabulary
changes: new courses, new platforms): at most one training per tenfold
growth, each about 0.1 s of one batch's write lock.
"""

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import zstandard

#: Statements stored when the first dictionary is trained; each next one at ten times more.
FIRST_TRAINING = 1_000
#: Bodies a dictionary is trained from (the latest stored).
SAMPLES = 1_000
#: Bytes of a dictionary.
DICTIONARY_BYTES = 16_384
#: zstd's compression level: 3 is its default, about 4 µs for a body here.
LEVEL = 3
# Dictionary ids 0 to 32767 are kept by zstd for registered dictionaries.
_FIRST_ID = 32_768
# Term sets and text are one frame (the text repeats the term sets' IRIs).
_SEPARATOR = b"\n"


def raw_body(termsets: str, text: str) -> bytes:
    """A body before compression: the term sets (JSON), a newline, the text."""
    return termsets.encode() + _SEPARATOR + text.encode()


class Bodies:
    """Packs and unpacks the bodies of one SQLite file's statements.

    Compressors and decompressors are per thread (zstd's are not safe to
    share); dictionaries are read from the file once per process, when first
    named by a body or when the store reaches the size of the next training.
    """

    def __init__(self, connection: Callable[[], sqlite3.Connection]) -> None:
        """``connection()`` is the calling thread's connection to the file."""
        self._connection = connection
        self._dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        # The count of dictionaries at which training failed here: not tried
        # again until the next tenfold (it would read 1,000 bodies each batch).
        self._failed_at = -1

    def pack(self, termsets: str, text: str) -> bytes:
        """The body of a statement: its term sets (JSON) and its text, compressed."""
        newest = max(self._dictionaries, default=0)
        local = self._local
        if getattr(local, "compressor_id", None) != newest:
            local.compressor = zstandard.ZstdCompressor(
                level=LEVEL, dict_data=self._dictionaries.get(newest)
            )
            local.compressor_id = newest
        compressor: zstandard.ZstdCompressor = local.compressor
        return compressor.compress(raw_body(termsets, text))

    def unpack(self, body: bytes) -> tuple[str, str]:
        """The term sets (JSON) and the text of a body."""
        dictionary_id = zstandard.get_frame_parameters(body).dict_id
        decompressors = getattr(self._local, "decompressors", None)
        if decompressors is None:
            decompressors = self._local.decompressors = {}
        decompressor = decompressors.get(dictionary_id)
        if decompressor is None:
            dictionary = self._dictionary(dictionary_id)
            decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
            decompressors[dictionary_id] = decompressor
        termsets, _, text = decompressor.decompress(body).partition(_SEPARATOR)
        return termsets.decode(), text.decode()

    def _dictionary(self, dictionary_id: int) -> zstandard.ZstdCompressionDict | None:
        if dictionary_id == 0:
            return None
        if dictionary_id not in self._dictionaries:
            self.read_dictionaries(self._connection())
        return self._dictionaries[dictionary_id]

    def read_dictionaries(self, connection: sqlite3.Connection) -> None:
        """Take up the dictionaries written since this process last read them."""
        known = max(self._dictionaries, default=0) - _FIRST_ID
        rows = connection.execute(
            "SELECT id, data FROM statement_dictionaries WHERE id > ? ORDER BY id", (known,)
        ).fetchall()
        with self._lock:
            for row_id, data in rows:
                self._dictionaries[_FIRST_ID + row_id] = zstandard.ZstdCompressionDict(data)

    def before_saving(self, database: Any, connection: sqlite3.Connection, last_seq: int) -> None:
        """Take up a newer dictionary, or train one, once the store has grown enough.

        Called in a write transaction of ``database``, before a batch is
        packed, with the highest statement number given so far. A dictionary
        trained here is used once committed (a rolled back one must never
        have packed a body).
        """
        if last_seq < FIRST_TRAINING * 10 ** len(self._dictionaries):
            return
        self.read_dictionaries(connection)  # another process may have trained it
        count = len(self._dictionaries)
        if last_seq < FIRST_TRAINING * 10**count or self._failed_at == count:
            return
        samples = [
            body
            for (body,) in connection.execute(
                "SELECT body FROM statements ORDER BY seq DESC LIMIT ?", (SAMPLES,)
            )
        ]
        if train(connection, [raw_body(*self.unpack(body)) for body in samples]):
            database.after_commit(lambda: self.read_dictionaries(self._connection()))
        else:
            self._failed_at = count


def train(connection: sqlite3.Connection, samples: list[bytes | bytearray | memoryview]) -> bool:
    """Train a dictionary from these raw bodies and add it to the file (in a write transaction).

    Too few or too alike samples to train from add nothing (``False``):
    bodies are then compressed with the dictionary before, if any, until the
    next training.
    """
    if len(samples) < 10:
        return False
    (last,) = connection.execute(
        "SELECT coalesce(max(id), 0) FROM statement_dictionaries"
    ).fetchone()
    try:
        dictionary = zstandard.train_dictionary(
            DICTIONARY_BYTES, samples, dict_id=_FIRST_ID + last + 1, level=LEVEL
        )
    except zstandard.ZstdError:
        return False
    connection.execute(
        "INSERT INTO statement_dictionaries (id, data) VALUES (?, ?)",
        (last + 1, dictionary.as_bytes()),
    )
    return True
