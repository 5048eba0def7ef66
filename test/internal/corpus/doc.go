// Package conformance replays every message of the shared conformance
// corpus (shared/conformance/samples) against the built kjdd binary, keeps
// golden request/response files per transaction, and sends the bad inputs
// of DESIGN.md §7 to check that each gets a clear fault and changes nothing.
package corpus
