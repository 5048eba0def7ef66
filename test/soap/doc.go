// Package soap sends the bad inputs of DESIGN.md §7 to kjdd's SOAP
// endpoints (registry, repository, gateway): malformed, oversized and
// hostile XML and MTOM, wrong SOAP versions and actions. Each gets a clear
// SOAP fault, a golden answer in testdata/golden, and changes nothing.
package soap
