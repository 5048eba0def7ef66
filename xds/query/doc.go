// Package query is the stored queries of ITI-18 and ITI-38: the typed
// StoredQuery that ParseAdhocQueryRequest reads from a
// query:AdhocQueryRequest, and Execute, which runs it against a Source,
// the port the adapter implements over its store. The answer is a
// rim.QueryResult for rim.Writer.
//
// It imports rim, soap (the poisoning check of the tree it parses) and hl7.
package query
