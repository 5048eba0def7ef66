// Package wsdl tests what a SOAP client generator sees of kjdd: the WSDLs
// of /xca, /xds/registry and /xds/repository and the schemas they import,
// as the built binary serves them. python-zeep (Debian python3-zeep, run
// by /usr/bin/python3) must bind every operation from them over HTTP, and
// every schemaLocation must resolve on the server to the official schema
// unchanged.
package wsdl
