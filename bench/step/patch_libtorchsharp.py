#!/usr/bin/env python3
"""Lets TorchSharp-cpu 0.107's libLibTorchSharp.so load on a system whose libstdc++ predates GLIBCXX_3.4.32
(Debian 12 has 3.4.30): that version is required for one symbol, std::ios_base_library_init, which the library
references but never calls (it is bound lazily through the PLT). The script marks the GLIBCXX_3.4.32 entry of the
library's version needs (.gnu.version_r) weak (VER_FLG_WEAK), so the loader no longer refuses the library.

It edits the copy in a build output, never the NuGet cache, and does nothing when the system's libstdc++ has the
version already or the library does not ask for it.  usage: patch_libtorchsharp.py PATH/libLibTorchSharp.so
"""
import struct
import sys

VERSION = b"GLIBCXX_3.4.32"
SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main():
    path = sys.argv[1]
    with open("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "rb") as f:
        if VERSION + b"\0" in f.read():
            print(f"{path}: the system libstdc++ has {VERSION.decode()}; nothing to do")
            return
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    for _, sh_type, _, _, offset, _, link, info, _, _ in sections:
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = sections[link][4]
        need = offset
        for _ in range(info):
            _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(cnt):
                _, flags, _, name, anext = struct.unpack_from("<IHHII", data, entry)
                end = data.index(b"\0", strtab + name)
                if bytes(data[strtab + name:end]) == VERSION:
                    if flags & VER_FLG_WEAK:
                        print(f"{path}: {VERSION.decode()} is weak already")
                        return
                    struct.pack_into("<H", data, entry + 4, flags | VER_FLG_WEAK)
                    open(path, "wb").write(data)
                    print(f"{path}: marked {VERSION.decode()} weak")
                    return
                entry += anext
            need += nxt
    print(f"{path}: does not require {VERSION.decode()}; nothing to do")


if __name__ == "__main__":
    main()
