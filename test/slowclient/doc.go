// Package slowclient holds the end-to-end tests of kjdd against clients
// that send or read slowly (issue 10 item 2): against the built binary,
// over raw TCP, with the header timeout, grace and rates shortened so that
// the bounds are measured in seconds.
package slowclient
