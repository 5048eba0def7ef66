// Package nistkit replays NIST XDS Toolkit test plans against kjdd: it
// parses testplan.xml files, registers the project's ebRIM 3.0 versions of
// NIST's seed submissions with fresh entryUUIDs and uniqueIds, resolves the
// plans' placeholders (UseId, UseReport) and evaluates their expectations
// (ExpectedStatus, ExpectedErrorCode/Message, ExpectedContents and the
// simple XPath Asserts the plans use).
package nistkit
