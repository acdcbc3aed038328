"""Parsing XML-RPC calls with defusedxml's parser: calls as clients send them come through
with their values; anything hostile or malformed becomes a Fault with the reason."""

from __future__ import annotations

import xmlrpc.client

import pytest

from wheelyard.services.xmlrpc import codec
from wheelyard.services.xmlrpc.codec import Fault, parse_call


def test_a_call_as_clients_send_it() -> None:
    body = xmlrpc.client.dumps(({"name": "flask", "summary": ["a", "b"]}, "or"), "search")
    call = parse_call(body.encode())
    assert call.method == "search"
    assert call.params == ({"name": "flask", "summary": ["a", "b"]}, "or")


def test_a_call_without_parameters() -> None:
    call = parse_call(
        b"<?xml version='1.0'?><methodCall><methodName>list_packages</methodName></methodCall>"
    )
    assert call.params == ()


def billion_laughs(levels: int) -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    return (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]>'
        f"<methodCall><methodName>&lol{levels - 1};</methodName></methodCall>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(billion_laughs(10), id="billion laughs"),
        pytest.param(
            b'<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>&x;</methodName></methodCall>',
            id="external entity",
        ),
        pytest.param(
            b'<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:9/">%p;]><methodCall/>',
            id="parameter entity",
        ),
        pytest.param(
            b'<!DOCTYPE methodCall SYSTEM "http://127.0.0.1:9/x.dtd"><methodCall/>',
            id="external DTD",
        ),
        pytest.param(
            b"<!DOCTYPE methodCall><methodCall><methodName>x</methodName></methodCall>",
            id="any DTD",
        ),
    ],
)
def test_entities_and_dtds_are_refused_before_expansion(body: bytes) -> None:
    with pytest.raises(Fault) as raised:
        parse_call(body)
    assert raised.value.code == codec.PARSE_ERROR
    assert "refused XML" in raised.value.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not well-formed"),
        (b"<methodCall>", "not well-formed"),
        (b"<value><int>12</int>", "not well-formed"),
        (b"<methodCall><params/></methodCall>", "names no method"),
        (
            b"<methodCall><methodName>x</methodName><params><param><value><double>nan-ish</double></value></param></params></methodCall>",
            "not an XML-RPC call",
        ),
        (
            b"<methodCall><methodName>x</methodName><params><param><value><dateTime.iso8601>bad</dateTime.iso8601></value></param></params></methodCall>",
            "not an XML-RPC call",
        ),
        (
            b"<methodCall>"
            + b"<value><array><data>" * 40
            + b"</data></array></value>" * 40
            + b"</methodCall>",
            "nested deeper",
        ),
    ],
)
def test_malformed_calls_are_faults(body: bytes, reason: str) -> None:
    with pytest.raises(Fault) as raised:
        parse_call(body)
    assert reason in raised.value.reason


def test_values_kept_loosely_reach_the_methods_which_check_types() -> None:
    # The standard unmarshaller drops what is not base64: the bytes reach the method,
    # which takes no bytes anywhere and answers a fault (tests/functional/test_xmlrpc.py).
    body = (
        b"<methodCall><methodName>x</methodName><params><param>"
        b"<value><base64>!!!</base64></value></param></params></methodCall>"
    )
    assert parse_call(body).params == (b"",)


def test_answers_and_faults_are_xml_rpc() -> None:
    assert xmlrpc.client.loads(codec.dump_result({"a": None, "b": [1, "x"]})) == (
        ({"a": None, "b": [1, "x"]},),
        None,
    )
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(codec.dump_fault(Fault(codec.METHOD_NOT_FOUND, "no method 'x'")))
    assert raised.value.faultCode == codec.METHOD_NOT_FOUND
    assert raised.value.faultString == "no method 'x'"
