"""ABI decoding of logs and the log → document mapping of the text index.

- :mod:`.abi`: event ABIs (JSON entries and human-readable signatures), topic 0;
- :mod:`.builtin`: the common events every registry knows;
- :mod:`.registry`: :class:`AbiRegistry`, which event a log is (by address, topic 0, topics);
- :mod:`.decoder`: :func:`decode_log`, arguments from topics and data;
- :mod:`.document`: :func:`log_document`, one log → one document, and the stored log record.
"""

from __future__ import annotations

from chainindex.logsearch.decode.abi import (
    AbiParam,
    EventAbi,
    event_from_json,
    parse_event_signature,
)
from chainindex.logsearch.decode.decoder import DecodedArg, DecodedEvent, decode_event, decode_log
from chainindex.logsearch.decode.registry import AbiRegistry
from chainindex.logsearch.document import (
    TEXT_FIELD,
    decode_log_record,
    encode_log_record,
    log_document,
)

__all__ = [
    "TEXT_FIELD",
    "AbiParam",
    "AbiRegistry",
    "DecodedArg",
    "DecodedEvent",
    "EventAbi",
    "decode_event",
    "decode_log",
    "decode_log_record",
    "encode_log_record",
    "event_from_json",
    "log_document",
    "parse_event_signature",
]
