"""Loads a WSDL of kjdd with python-zeep and prints, as JSON, the operations
zeep bound: binding, operation, SOAP action and the input and output body
elements. Every document zeep fetches must come from kjdd itself; the one
exception, W3C's xml.xsd that rim.xsd imports by its absolute URL, is read
from kjdd's copy at /xsd/w3c/xml.xsd, as an XML catalog would map it.

usage: bind.py BASE_URL WSDL_PATH
"""
import json
import sys

import zeep
import zeep.transports

W3C_XML_XSD = ("http://www.w3.org/2001/xml.xsd", "https://www.w3.org/2001/xml.xsd")


class KjddOnly(zeep.transports.Transport):
    """A transport that loads documents from kjdd only and records them."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.loaded = []

    def load(self, url):
        if url in W3C_XML_XSD:
            url = self.base + "/xsd/w3c/xml.xsd"
        if not url.startswith(self.base + "/"):
            raise RuntimeError("zeep asked for a document outside kjdd: " + url)
        self.loaded.append(url[len(self.base):])
        return super().load(url)


def element(part):
    body = getattr(part, "body", None)
    return body.qname.text if body is not None and body.qname is not None else None


def main():
    base, path = sys.argv[1], sys.argv[2]
    transport = KjddOnly(base)
    client = zeep.Client(base + path, transport=transport)
    ops = []
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            for name, op in sorted(port.binding._operations.items()):
                ops.append({
                    "service": service.name,
                    "port": port.name,
                    "address": port.binding_options.get("address"),
                    "operation": name,
                    "action": op.soapaction,
                    "input": element(op.input),
                    "output": element(op.output),
                })
    json.dump({"operations": ops, "loaded": transport.loaded}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
