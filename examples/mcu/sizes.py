#!/usr/bin/env python3
"""Flash and RAM of a firmware from its GNU ld map (docs/deployment.md, "Microcontrollers"): the bytes of .text,
.rodata and .vectors (flash) and of .data and .bss (RAM, the arena section excluded) by owner: the micro runtime
(libsscma-micro.a), the model (the exported C array), the firmware's own files, and the C library (newlib-nano,
libm, libgcc). Usage: sizes.py FIRMWARE.map"""
import collections
import re
import sys


def owner(obj):
    if 'libsscma-micro.a' in obj:
        return 'runtime'
    if '_model.c' in obj:
        return 'model'
    if re.search(r'(main|startup|semihost)\.c', obj):
        return 'firmware'
    return 'libc'


def sizes(path):
    text = open(path).read()
    text = text[text.index('Linker script and memory map'):]
    out = collections.Counter()
    pending = None
    for line in text.splitlines():
        m = re.match(r'^ (\.[\w.]+)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*))?$', line)
        if m and m.group(2) is None:
            pending = m.group(1)  # a long section name: its address and size are on the next line
            continue
        if m:
            section, size, obj = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            m = re.match(r'^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$', line)
            if not m or pending is None:
                pending = None
                continue
            section, size, obj = pending, int(m.group(2), 16), m.group(3)
        pending = None
        if re.match(r'\.(text|rodata|ARM|vectors)', section):
            out[(owner(obj), 'flash')] += size
        elif re.match(r'\.(data|bss)', section):
            out[(owner(obj), 'ram')] += size
    return out


if __name__ == '__main__':
    s = sizes(sys.argv[1])
    for who in ('runtime', 'model', 'firmware', 'libc'):
        print(f'{who:8} flash {s[(who, "flash")]:8} ram {s[(who, "ram")]:6}')
