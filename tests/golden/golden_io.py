"""Writes the golden files read by tests/unit/golden.c.

Format (little-endian): b"SSCMAGLD", u32 version (1), u32 record count, then per record: u32 name length, the name
(UTF-8), u32 dtype (1 = f32, 4 = i32), u32 rank, rank x i64 dims, the elements.
"""
import os
import struct

import numpy as np


def write_golden(path, records):
    """records: (name, array) with an f32 payload, or (name, dtype, array). Written atomically."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"SSCMAGLD" + struct.pack("<II", 1, len(records)))
        for record in records:
            name, dtype, array = record if len(record) == 3 else (record[0], 1, record[1])
            array = np.asarray(array)
            raw = name.encode()
            f.write(struct.pack("<I", len(raw)) + raw + struct.pack("<II", dtype, array.ndim))
            f.write(struct.pack(f"<{array.ndim}q", *array.shape))
            f.write(array.astype("<f4" if dtype == 1 else "<i4").tobytes())
    os.replace(tmp, path)
