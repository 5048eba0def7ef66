// Package xds tests kjdd's XDS.b registry and repository (ITI-18 stored
// query, ITI-41 provide and register, ITI-42 register, ITI-43 retrieve)
// against the built binary: the conformance corpus' samples of those
// transactions replayed with golden answers, and the retrieve paths the
// corpus leaves open. Documents registered with ITI-42 whose content
// stays in the EPJ's own repository (a fake speaking real ITI-43 over
// loopback, with a 30 MB document, an HTTP 503 and a stopped repository),
// the error code of every way a DocumentRequest can fail with Success,
// PartialSuccess and Failure, and the stored-query result limit
// (XDSTooManyResults).
//
// The retrieve world (kjdd with the EPJ behind it) is also the world of
// the ITI-39 retrieve cases and of the ITI-38 home rules
// (TestCrossGatewayQueryHome): ITI-39 and ITI-38 reach the same registry
// and retrieve paths through the gateway, and those cases run over both
// transactions from one table. Every response passes the harness' schema
// validation.
package xds
