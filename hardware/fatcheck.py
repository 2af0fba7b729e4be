"""Is a customer's FAT stick safe to write to? A read-only look at its metadata, in place of `fsck.fat -n`.

Why not fsck.fat: dosfstools 4.2 (Debian 12) calls every volume label that is not ASCII invalid, so a stick
that a Korean Windows named 우체국 (the label in CP949) makes `fsck.fat -n` exit 1 as if it were damaged,
and `fsck.fat -a` would then strip the customer's label (seen on the booted appliance; `-c 949` does not
help). udisks2's Filesystem.Check runs exactly that command, with no way to pass options.

So the kiosk reads the metadata itself (through udisks2's Block.OpenDevice, read-only) and looks for what a
stick pulled out mid-write or a power cut leaves behind, which is what fsck.fat would repair: the dirty
flags (the boot sector's, set by Linux while mounted; FAT[1]'s clean-shutdown bit, cleared by Windows), FAT
copies that disagree, chains that run into free or bad clusters or out of the volume, clusters claimed
twice, a file whose chain is shorter or longer than its size, and allocated clusters no file owns. Repair
stays udisks2's Filesystem.Repair (fsck.fat -a). Names, dates and the label are not judged: they never stop
a write.
"""

from __future__ import annotations

import os
import struct
from array import array
from dataclasses import dataclass

ATTR_VOLUME, ATTR_DIRECTORY, ATTR_LONG_NAME = 0x08, 0x10, 0x0F
# more than this and the stick is inconsistent anyway: stop counting
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Geometry:
    """What the boot sector says about where things are."""

    bits: int  # 12, 16 or 32
    sector: int
    cluster_bytes: int
    fat_offset: int
    fat_bytes: int
    fats: int
    root_offset: int  # FAT12/16: the fixed root directory
    root_bytes: int
    root_cluster: int  # FAT32: the root directory's first cluster
    data_offset: int
    clusters: int  # data clusters: numbered 2 .. clusters + 1
    dirty: bool

    @property
    def end_of_chain(self) -> int:
        return {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8}[self.bits]

    @property
    def bad(self) -> int:
        return self.end_of_chain - 1

    def cluster_offset(self, cluster: int) -> int:
        return self.data_offset + (cluster - 2) * self.cluster_bytes


def geometry(boot: bytes) -> Geometry:
    """Parse the BIOS parameter block; ValueError when it is not a FAT boot sector."""
    if len(boot) < 512 or boot[510:512] != b"\x55\xaa":
        raise ValueError("no boot sector signature")
    sector, per_cluster, reserved, fats, root_entries, total16 = struct.unpack_from("<HBHBHH", boot, 0x0B)
    fat16_size = struct.unpack_from("<H", boot, 0x16)[0]
    total32, fat32_size, root_cluster = struct.unpack_from("<IIxxxxI", boot, 0x20)
    if sector not in (512, 1024, 2048, 4096) or per_cluster == 0 or per_cluster & (per_cluster - 1) or not fats:
        raise ValueError("implausible BIOS parameter block")
    fat_sectors = fat16_size or fat32_size
    total = total16 or total32
    root_sectors = (root_entries * 32 + sector - 1) // sector
    data_sector = reserved + fats * fat_sectors + root_sectors
    if not fat_sectors or total <= data_sector:
        raise ValueError("implausible sizes in the BIOS parameter block")
    clusters = (total - data_sector) // per_cluster
    bits = 12 if clusters < 4085 else 16 if clusters < 65525 else 32
    dirty = bool(boot[0x41 if bits == 32 else 0x25] & 0x01)
    return Geometry(bits=bits, sector=sector, cluster_bytes=sector * per_cluster, fat_offset=reserved * sector,
                    fat_bytes=fat_sectors * sector, fats=fats, root_offset=(reserved + fats * fat_sectors) * sector,
                    root_bytes=root_sectors * sector, root_cluster=root_cluster if bits == 32 else 0,
                    data_offset=data_sector * sector, clusters=clusters, dirty=dirty)


def fat_entries(raw: bytes, bits: int, count: int) -> array:
    """The first `count` entries of one FAT as integers."""
    if bits == 32:
        entries = array("I", raw[:count * 4])
        return array("I", (value & 0x0FFFFFFF for value in entries))
    if bits == 16:
        return array("H", raw[:count * 2])
    out = array("H")
    for index in range(count):  # FAT12: 1.5 bytes an entry, at most 4085 of them
        pair = raw[index * 3 // 2] | raw[index * 3 // 2 + 1] << 8
        out.append(pair >> 4 if index & 1 else pair & 0xFFF)
    return out


class _Walk:
    """One pass over the directory tree, marking which cluster each chain owns."""

    def __init__(self, read, shape: Geometry, fat: array):
        self.read, self.shape, self.fat = read, shape, fat
        self.owned = bytearray(shape.clusters + 2)
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def chain(self, start: int, what: str) -> list[int] | None:
        """Follow a chain from `start`, claiming each cluster: the clusters it holds, None when it is broken
        (the problem noted)."""
        held: list[int] = []
        cluster = start
        while True:
            if not 2 <= cluster <= self.shape.clusters + 1:
                self.problem(f"{what}: chain points outside the volume (cluster {cluster})")
                return None
            if self.owned[cluster]:
                self.problem(f"{what}: cluster {cluster} is claimed twice")
                return None
            self.owned[cluster] = 1
            held.append(cluster)
            following = self.fat[cluster]
            if following >= self.shape.end_of_chain:
                return held
            if following == 0:
                self.problem(f"{what}: chain runs into a free cluster after {cluster}")
                return None
            if following == self.shape.bad:
                self.problem(f"{what}: chain runs into a bad cluster after {cluster}")
                return None
            cluster = following

    def directory(self, raw: bytes, path: str) -> None:
        for offset in range(0, len(raw) - 31, 32):
            entry = raw[offset:offset + 32]
            if entry[0] == 0x00:
                return
            attributes = entry[11]
            if entry[0] == 0xE5 or attributes & 0x3F == ATTR_LONG_NAME or attributes & ATTR_VOLUME:
                continue
            if entry[:2] in (b".\x20", b"..") and attributes & ATTR_DIRECTORY:
                continue
            start = struct.unpack_from("<H", entry, 26)[0] | (
                struct.unpack_from("<H", entry, 20)[0] << 16 if self.shape.bits == 32 else 0)
            size = struct.unpack_from("<I", entry, 28)[0]
            name = f"{path}/{entry[:11].hex()}"  # short names may be in any code page: never decoded here
            if attributes & ATTR_DIRECTORY:
                if start == 0:
                    self.problem(f"{name}: directory with no cluster")
                    continue
                clusters = self.chain(start, name)
                if clusters is not None:
                    self.directory(self.clusters(clusters), name)
            elif size or start:
                if start == 0:
                    self.problem(f"{name}: {size} bytes with no cluster")
                    continue
                held = self.chain(start, name)
                needed = (size + self.shape.cluster_bytes - 1) // self.shape.cluster_bytes
                if held is not None and len(held) != needed:
                    self.problem(f"{name}: {size} bytes but a chain of {len(held)} clusters")

    def clusters(self, numbers: list[int]) -> bytes:
        return b"".join(self.read(self.shape.cluster_offset(c), self.shape.cluster_bytes) for c in numbers)

    def lost_clusters(self) -> int:
        bad = self.shape.bad
        return sum(1 for cluster in range(2, self.shape.clusters + 2)
                   if not self.owned[cluster] and self.fat[cluster] not in (0, bad))


def problems(device: int) -> list[str]:
    """What fsck.fat would repair on the FAT filesystem open (read-only) as file descriptor `device`;
    an empty list when it is safe to write to. Reads the metadata only, never file contents."""
    def read(offset: int, length: int) -> bytes:
        data = os.pread(device, length, offset)
        if len(data) != length:
            raise OSError(f"short read at {offset}: the stick ended early")
        return data

    try:
        shape = geometry(read(0, 512))
    except ValueError as exc:
        return [f"boot sector: {exc}"]
    found: list[str] = []
    if shape.dirty:
        found.append("dirty flag set in the boot sector (not cleanly unmounted)")
    copies = [read(shape.fat_offset + copy * shape.fat_bytes, shape.fat_bytes) for copy in range(shape.fats)]
    if any(copy != copies[0] for copy in copies[1:]):
        found.append("the copies of the FAT differ")
    fat = fat_entries(copies[0], shape.bits, shape.clusters + 2)
    clean_bit = {16: 0x8000, 32: 0x08000000}.get(shape.bits)
    if clean_bit and not fat[1] & clean_bit:
        found.append("clean-shutdown bit cleared in FAT[1] (not cleanly removed)")
    walk = _Walk(read, shape, fat)
    if shape.bits == 32:
        root = walk.clusters(walk.chain(shape.root_cluster, "/") or [])
    else:
        root = read(shape.root_offset, shape.root_bytes)
    walk.directory(root, "")
    found += walk.problems
    lost = walk.lost_clusters()
    if lost:
        found.append(f"{lost} allocated clusters belong to no file")
    return found
