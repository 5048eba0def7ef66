package soap

// Limits bound what ReadMessage accepts, so that a single request can cost
// neither unbounded memory nor unbounded disk. A zero field means the
// default of DefaultLimits.
type Limits struct {
	// MaxBodyBytes bounds the XML envelope: the whole body of a plain
	// application/soap+xml request, or the root part of an MTOM request.
	// The envelope is held in memory and parsed into a tree.
	MaxBodyBytes int64
	// MaxDepth bounds the nesting depth of XML elements.
	MaxDepth int
	// MaxElements bounds the number of XML elements in the envelope.
	MaxElements int
	// MaxParts bounds the number of MIME parts of an MTOM request, root
	// part included.
	MaxParts int
	// MaxPartBytes bounds the decoded size of each non-root MIME part.
	MaxPartBytes int64
	// MemoryPartBytes is the size up to which a MIME part is kept in
	// memory; larger parts go to the reader's Spool.
	MemoryPartBytes int64
}

// Default limits. The reasons are in DefaultLimits.
const (
	DefaultMaxBodyBytes    int64 = 64 << 20
	DefaultMaxDepth              = 64
	DefaultMaxElements           = 100_000
	DefaultMaxParts              = 100
	DefaultMaxPartBytes    int64 = 256 << 20
	DefaultMemoryPartBytes int64 = 1 << 20
)

// DefaultLimits returns the limits kjdd runs with unless configured
// otherwise:
//
//   - MaxBodyBytes 64 MiB: plain SOAP carries documents inline as base64
//     (ITI-41 without MTOM is common among EPJ stacks), so the envelope must
//     admit a document of about 45 MiB; every larger document has to come
//     as an MTOM part, which is spooled instead of parsed. The largest
//     metadata-only message in the conformance corpus is under 30 KiB.
//   - MaxDepth 64: the deepest real message (a SAML assertion inside
//     wsse:Security inside the header) nests 10 levels.
//   - MaxElements 100 000: an ITI-42 submission of several hundred
//     DocumentEntries (about 100 elements each) still fits, while a
//     request of millions of tiny elements is refused before it is built
//     into a tree.
//   - MaxParts 100 and MaxPartBytes 256 MiB: an ITI-41 submission of many
//     documents, each as large as a scanned record gets, while the worst
//     case on disk stays bounded.
//   - MemoryPartBytes 1 MiB: most documents (letters, notes, CDA) are
//     smaller and stay in memory; larger ones go to disk.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:    DefaultMaxBodyBytes,
		MaxDepth:        DefaultMaxDepth,
		MaxElements:     DefaultMaxElements,
		MaxParts:        DefaultMaxParts,
		MaxPartBytes:    DefaultMaxPartBytes,
		MemoryPartBytes: DefaultMemoryPartBytes,
	}
}

// orDefaults fills zero or negative fields with the defaults, so that a
// partly filled Limits never means "unlimited".
func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxPartBytes <= 0 {
		l.MaxPartBytes = d.MaxPartBytes
	}
	if l.MemoryPartBytes <= 0 {
		l.MemoryPartBytes = d.MemoryPartBytes
	}
	if l.MemoryPartBytes > l.MaxPartBytes {
		l.MemoryPartBytes = l.MaxPartBytes
	}
	return l
}
