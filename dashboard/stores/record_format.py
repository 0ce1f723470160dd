"""What the site writes to Redis: a format that cannot run code when it is read (never pickle).

A record is a short header (`MAGIC`), the length of a JSON document, the JSON document, then the raw buffers of the
value's arrays and byte strings, one after another. The JSON holds the structure: numbers, strings, lists, tuples,
dicts (in order, any plain keys), the dataclasses a `RecordFormat` was made with (by class name, rebuilt from their
fields only) and, for each array or byte string, where its buffer lies (arrays with their dtype and shape; only
plain numeric dtypes are read: never an object array). Reading one builds nothing else, so whoever can write to
Redis can at worst make a record that reads as missing.

Arrays read back share one copy of the record's bytes (as unpickling copied them), writable when the array written
was.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MAGIC = b"colorizer-record/1\n"
_LENGTH = struct.Struct("<Q")
_TAG = "~"
_NUMERIC_KINDS = frozenset("biufc")  # bool, signed and unsigned integers, floats, complex: never objects
_ALIGN = 16  # each buffer starts at a multiple of this, so that arrays read back are aligned


def _padding(size: int) -> int:
    return -size % _ALIGN


class UnreadableRecordError(ValueError):
    """Bytes that are not a record of this format (an old pickle, something written by hand, a truncated value)."""


@dataclasses.dataclass(frozen=True)
class Custom:
    """How a class that is not a plain dataclass travels: its state as a dict of plain values, and back."""

    cls: type
    state: Callable[[Any], dict]
    rebuild: Callable[[dict], Any]


class RecordFormat:
    """Writes and reads records of plain values, numpy arrays, bytes and the given classes (dataclasses, rebuilt
    from their fields; and `Custom` ones)."""

    def __init__(self, dataclasses_: Iterable[type] = (), custom: Iterable[Custom] = ()) -> None:
        self._dataclasses = {cls.__name__: cls for cls in dataclasses_}
        self._custom = {entry.cls.__name__: entry for entry in custom}
        for cls in self._dataclasses.values():
            if not dataclasses.is_dataclass(cls):
                raise TypeError(f"{cls!r} is not a dataclass")

    # --- writing ------------------------------------------------------------------------------------------------

    def dumps(self, value: object) -> bytes:
        buffers: list[memoryview] = []
        document = json.dumps({"value": self._encode(value, buffers), "buffers": [len(b) for b in buffers]},
                              separators=(",", ":"), allow_nan=True).encode()
        parts = [MAGIC, _LENGTH.pack(len(document)), document]
        for buffer in buffers:
            parts += [buffer, bytes(_padding(len(buffer)))]
        return b"".join(parts)

    def _encode(self, value: object, buffers: list[memoryview]) -> object:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return self._encode(value.item(), buffers)
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _NUMERIC_KINDS:
                raise TypeError(f"Only numeric arrays are kept, not {value.dtype}")
            contiguous = np.ascontiguousarray(value)
            buffers.append(memoryview(contiguous.reshape(-1).view(np.uint8)))
            return {_TAG: "ndarray", "buffer": len(buffers) - 1, "dtype": contiguous.dtype.str,
                    "shape": list(contiguous.shape), "writeable": bool(value.flags.writeable)}
        if isinstance(value, (bytes, bytearray, memoryview)):
            buffers.append(memoryview(value).cast("B"))
            return {_TAG: "bytes", "buffer": len(buffers) - 1}
        if isinstance(value, list):
            return [self._encode(item, buffers) for item in value]
        if isinstance(value, tuple):
            return {_TAG: "tuple", "items": [self._encode(item, buffers) for item in value]}
        if isinstance(value, dict):
            tag = "odict" if isinstance(value, OrderedDict) else "dict"
            return {_TAG: tag, "items": [[self._encode(key, buffers), self._encode(item, buffers)]
                                         for key, item in value.items()]}
        name = type(value).__name__
        if name in self._custom and type(value) is self._custom[name].cls:
            return {_TAG: "object", "class": name, "state": self._encode(self._custom[name].state(value), buffers)}
        if name in self._dataclasses and type(value) is self._dataclasses[name]:
            fields = {field.name: self._encode(getattr(value, field.name), buffers)
                      for field in dataclasses.fields(value)}
            return {_TAG: "object", "class": name, "fields": fields}
        raise TypeError(f"{type(value)!r} cannot be written as a record")

    # --- reading ------------------------------------------------------------------------------------------------

    def loads(self, data: bytes | None) -> object:
        """The value `data` holds; None for None. Raises UnreadableRecordError for anything this format did not
        write (nothing in it is ever run)."""
        if data is None:
            return None
        if not data.startswith(MAGIC):
            raise UnreadableRecordError("Not a record of this format")
        start = len(MAGIC) + _LENGTH.size
        if len(data) < start:
            raise UnreadableRecordError("A truncated record")
        (length,) = _LENGTH.unpack_from(data, len(MAGIC))
        try:
            document = json.loads(bytes(data[start:start + length]))
            sizes = [int(size) for size in document["buffers"]]
        except (ValueError, TypeError, KeyError) as error:
            raise UnreadableRecordError(f"A damaged record: {error}") from None
        payload = bytearray(data[start + length:])  # one writable copy that the arrays share
        if any(size < 0 for size in sizes) or sum(size + _padding(size) for size in sizes) != len(payload):
            raise UnreadableRecordError("A record whose buffers do not add up")
        buffers, offset = [], 0
        for size in sizes:
            buffers.append(memoryview(payload)[offset:offset + size])
            offset += size + _padding(size)
        try:
            return self._decode(document["value"], buffers)
        except UnreadableRecordError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as error:
            raise UnreadableRecordError(f"A damaged record: {error!r}") from None

    def loads_or_none(self, data: bytes | None, what: str = "value") -> object:
        """`loads`, but an unreadable record counts as missing (logged), as an expired one would."""
        try:
            return self.loads(data)
        except UnreadableRecordError as error:
            logger.warning("Ignored an unreadable %s in Redis (%s)", what, error)
            return None

    def _decode(self, node: object, buffers: list[memoryview]) -> object:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self._decode(item, buffers) for item in node]
        if not isinstance(node, dict):
            raise UnreadableRecordError("A damaged record")
        tag = node[_TAG]
        if tag == "tuple":
            return tuple(self._decode(item, buffers) for item in node["items"])
        if tag in ("dict", "odict"):
            pairs = [(self._decode(key, buffers), self._decode(item, buffers)) for key, item in node["items"]]
            return OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag == "bytes":
            return bytes(buffers[node["buffer"]])
        if tag == "ndarray":
            dtype = np.dtype(str(node["dtype"]))
            if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject:
                raise UnreadableRecordError(f"An array of {dtype} is never read")
            shape = tuple(int(side) for side in node["shape"])
            array = np.frombuffer(buffers[node["buffer"]], dtype=dtype).reshape(shape)
            array.setflags(write=node.get("writeable", True) is not False)
            return array
        if tag == "object":
            name = node["class"]
            if name in self._custom and "state" in node:
                return self._custom[name].rebuild(self._decode(node["state"], buffers))
            cls = self._dataclasses.get(name)
            if cls is None or "fields" not in node:
                raise UnreadableRecordError(f"No class {name!r} is read from records")
            known = {field.name: field for field in dataclasses.fields(cls)}
            values = {key: self._decode(item, buffers) for key, item in node["fields"].items() if key in known}
            made = cls(**{key: item for key, item in values.items() if known[key].init})
            for key, item in values.items():
                if not known[key].init:
                    object.__setattr__(made, key, item)
            return made
        raise UnreadableRecordError(f"Unknown tag {tag!r}")


def dataclasses_of(*modules) -> list[type]:
    """Every dataclass defined in these modules (the classes a store's records may hold)."""
    return [value for module in modules for value in vars(module).values()
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__]
