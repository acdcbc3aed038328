"""Reading XML-RPC calls and writing answers and faults.

Calls come from anyone, so they are parsed by defusedxml's expat parser, never the standard
library's own: a document type declaration, an entity declaration (the "billion laughs") or
an external entity is refused before it is expanded. The caller bounds the body's size, so
a document can be no larger than that; its depth is bounded here too, since expat keeps a
frame per open element.
"""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.xmlrpc import DefusedExpatParser

# XML-RPC's usual fault codes (as PyPI's own server sends them).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
APPLICATION_ERROR = -32500

# No call of the API nests its parameters deeper than a struct of lists (search's spec).
MAX_DEPTH = 32


class Fault(Exception):
    """A call that gets an XML-RPC fault: the client's error, with the reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Call:
    method: str
    params: tuple[Any, ...]


class _DepthLimitedUnmarshaller(xmlrpc.client.Unmarshaller):
    """The standard unmarshaller (it only builds values from the parser's events), refusing
    documents nested deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        super().__init__(use_datetime=False, use_builtin_types=True)
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise Fault(PARSE_ERROR, f"the call is nested deeper than {MAX_DEPTH} elements")
        super().start(tag, attrs)

    def end(self, tag: str) -> None:
        self._depth -= 1
        super().end(tag)


def parse_call(body: bytes) -> Call:
    """The method and parameters of an XML-RPC call; Fault when it is not a well-formed one."""
    unmarshaller = _DepthLimitedUnmarshaller()
    # No DTD at all: an XML-RPC call has no use for one.
    parser = DefusedExpatParser(
        unmarshaller, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        parser.close()
        params = unmarshaller.close()
    except Fault:
        raise
    except DTDForbidden as error:
        raise Fault(PARSE_ERROR, "refused XML: no document type declarations") from error
    except EntitiesForbidden as error:
        raise Fault(PARSE_ERROR, "refused XML: no entity declarations") from error
    except DefusedXmlException as error:
        raise Fault(PARSE_ERROR, "refused XML: no external references") from error
    except ExpatError as error:
        raise Fault(PARSE_ERROR, f"not well-formed XML: {error}") from error
    except (xmlrpc.client.Error, ValueError, TypeError, KeyError, IndexError) as error:
        # The standard unmarshaller's complaints about values (an <int> of letters, an
        # unbalanced <value>), or none of its tags at all.
        raise Fault(PARSE_ERROR, f"not an XML-RPC call: {error!r}") from error
    method = unmarshaller.getmethodname()
    if not isinstance(method, str) or not method:
        raise Fault(INVALID_REQUEST, "the call names no method")
    return Call(method, tuple(params))


def dump_result(value: Any) -> bytes:
    # None goes out as <nil/>, as PyPI sends it for a field a release does not have.
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()


def dump_fault(fault: Fault) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(fault.code, fault.reason)).encode()
