package xds

import (
	"slices"
	"sync"
)

// The fragment cache. The LeafClass XML of a registry object is a pure
// function of the object and of the responding gateway's home: the same
// object renders to the same bytes in every answer (derived ids included).
// The same patient's documents are listed again and again, so the streaming
// renderer keeps recently rendered objects' XML and copies it instead of
// rendering again.
//
// A cached fragment is reused only for an object equal to the one it was
// rendered from, field by field (equalDocumentEntry and friends; the
// reflective test in rim_write_cache_test.go fails when a model field is
// added without being compared). The cache keeps its own deep copy of that
// object, so nothing a caller does to its objects afterwards can make a
// fragment stale.

// renderCacheBytes bounds the fragment cache: about six thousand typical
// DocumentEntries, a few hundred patients' document lists.
const renderCacheBytes = 32 << 20

// renderedObjects is the process's fragment cache.
var renderedObjects = newFragmentCache(renderCacheBytes)

// fragmentKind tells the four cached object types apart.
type fragmentKind uint8

const (
	fragmentDocumentEntry fragmentKind = iota + 1
	fragmentSubmissionSet
	fragmentFolder
	fragmentAssociation
)

// fragmentKey is what a fragment is looked up by; the object itself then
// decides.
type fragmentKey struct {
	kind fragmentKind
	id   string // the object's entryUUID
	home string // rimWriter.home
}

// fragment is a cached object's XML and the object it was rendered from
// (the cache's own deep copy, never modified).
type fragment struct {
	key        fragmentKey
	obj        any
	xml        []byte
	prev, next *fragment
}

// fragmentCache is a byte-bounded LRU of fragments, safe for concurrent
// use. A nil *fragmentCache caches nothing.
type fragmentCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	items    map[fragmentKey]*fragment
	root     fragment // sentinel: root.next is the most recently used
}

func newFragmentCache(maxBytes int) *fragmentCache {
	c := &fragmentCache{maxBytes: maxBytes, items: make(map[fragmentKey]*fragment)}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// get returns the fragment cached under k and the object it was rendered
// from. Both are shared and must not be modified.
func (c *fragmentCache) get(k fragmentKey) (obj any, xml []byte, ok bool) {
	if c == nil {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.items[k]
	if !ok {
		return nil, nil, false
	}
	c.unlink(f)
	c.pushFront(f)
	return f.obj, f.xml, true
}

// put caches a copy of xml as the rendering of obj under k, replacing what
// was there (the object changed). obj must be the cache's own copy.
func (c *fragmentCache) put(k fragmentKey, obj any, xml []byte) {
	if c == nil || len(xml) > c.maxBytes/64 {
		// An outsized object would evict many ordinary ones.
		return
	}
	f := &fragment{key: k, obj: obj, xml: slices.Clone(xml)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[k]; ok {
		c.remove(old)
	}
	c.items[k] = f
	c.bytes += f.size()
	c.pushFront(f)
	for c.bytes > c.maxBytes {
		c.remove(c.root.prev)
	}
}

// size is what a fragment counts against the bound: its XML and a rough
// allowance for the object copy and the bookkeeping.
func (f *fragment) size() int { return len(f.xml) + 1024 }

func (c *fragmentCache) remove(f *fragment) {
	c.unlink(f)
	delete(c.items, f.key)
	c.bytes -= f.size()
}

func (c *fragmentCache) unlink(f *fragment) {
	f.prev.next, f.next.prev = f.next, f.prev
	f.prev, f.next = nil, nil
}

func (c *fragmentCache) pushFront(f *fragment) {
	f.prev, f.next = &c.root, c.root.next
	c.root.next.prev = f
	c.root.next = f
}

// flush ends a start tag still open, so that what follows can be copied
// in as it is.
func (w *rimWriter) flush() {
	if w.open {
		w.b = append(w.b, '>')
		w.open = false
	}
}

// writeCached writes obj from the fragment cache, or renders it with render
// and caches the result. A cached fragment is used only for an object equal
// to the one it was rendered from, field by field; the cache keeps a copy
// that shares nothing with obj.
func writeCached[T any](w *rimWriter, kind fragmentKind, id string, obj T,
	equal func(a, b T) bool, clone func(T) T, render func(T)) {
	w.flush()
	k := fragmentKey{kind: kind, id: id, home: w.home}
	if cached, xml, ok := renderedObjects.get(k); ok {
		if c, ok := cached.(T); ok && equal(c, obj) {
			w.b = append(w.b, xml...)
			return
		}
	}
	start := len(w.b)
	render(obj)
	renderedObjects.put(k, clone(obj), w.b[start:])
}

// Equality of model objects as far as rendering can tell: every field, with
// nil and empty slices alike (they render alike). Strings from the same
// source share their bytes, so these comparisons are mostly pointer checks.

func equalDocumentEntry(a, b *DocumentEntry) bool {
	return a.EntryUUID == b.EntryUUID && a.LogicalID == b.LogicalID && a.Version == b.Version &&
		a.UniqueID == b.UniqueID && a.PatientID == b.PatientID && a.ObjectType == b.ObjectType &&
		a.MimeType == b.MimeType && a.Status == b.Status && a.Home == b.Home &&
		a.Title == b.Title && a.Comments == b.Comments &&
		a.ClassCode == b.ClassCode && a.TypeCode == b.TypeCode && a.FormatCode == b.FormatCode &&
		a.HealthcareFacilityTypeCode == b.HealthcareFacilityTypeCode && a.PracticeSettingCode == b.PracticeSettingCode &&
		slices.Equal(a.ConfidentialityCodes, b.ConfidentialityCodes) && slices.Equal(a.EventCodes, b.EventCodes) &&
		equalAuthors(a.Authors, b.Authors) &&
		a.CreationTime == b.CreationTime && a.ServiceStartTime == b.ServiceStartTime &&
		a.ServiceStopTime == b.ServiceStopTime && a.LanguageCode == b.LanguageCode &&
		a.SourcePatientID == b.SourcePatientID && slices.Equal(a.SourcePatientInfo, b.SourcePatientInfo) &&
		a.LegalAuthenticator == b.LegalAuthenticator && a.Hash == b.Hash && a.Size == b.Size &&
		a.HasSize == b.HasSize && a.RepositoryUniqueID == b.RepositoryUniqueID &&
		slices.Equal(a.ReferenceIDs, b.ReferenceIDs) && a.DocumentAvailability == b.DocumentAvailability &&
		a.URI == b.URI && equalSlots(a.ExtraSlots, b.ExtraSlots)
}

func equalSubmissionSet(a, b *SubmissionSet) bool {
	return a.EntryUUID == b.EntryUUID && a.LogicalID == b.LogicalID && a.UniqueID == b.UniqueID &&
		a.SourceID == b.SourceID && a.PatientID == b.PatientID && a.Status == b.Status && a.Home == b.Home &&
		a.Title == b.Title && a.Comments == b.Comments && a.SubmissionTime == b.SubmissionTime &&
		a.ContentTypeCode == b.ContentTypeCode && equalAuthors(a.Authors, b.Authors) &&
		slices.Equal(a.IntendedRecipients, b.IntendedRecipients) && equalSlots(a.ExtraSlots, b.ExtraSlots)
}

func equalFolder(a, b *Folder) bool {
	return a.EntryUUID == b.EntryUUID && a.LogicalID == b.LogicalID && a.UniqueID == b.UniqueID &&
		a.PatientID == b.PatientID && a.Status == b.Status && a.Home == b.Home && a.Title == b.Title &&
		a.Comments == b.Comments && a.LastUpdateTime == b.LastUpdateTime &&
		slices.Equal(a.CodeList, b.CodeList) && equalSlots(a.ExtraSlots, b.ExtraSlots)
}

func equalAssociation(a, b *Association) bool {
	return a.EntryUUID == b.EntryUUID && a.Type == b.Type && a.Source == b.Source && a.Target == b.Target &&
		a.Status == b.Status && a.Home == b.Home && a.SubmissionSetStatus == b.SubmissionSetStatus &&
		equalSlots(a.ExtraSlots, b.ExtraSlots)
}

func equalAuthors(a, b []Author) bool {
	return slices.EqualFunc(a, b, func(x, y Author) bool {
		return x.Person == y.Person && slices.Equal(x.Institutions, y.Institutions) &&
			slices.Equal(x.Roles, y.Roles) && slices.Equal(x.Specialties, y.Specialties) &&
			slices.Equal(x.Telecommunications, y.Telecommunications) && equalSlots(x.ExtraSlots, y.ExtraSlots)
	})
}

func equalSlots(a, b []Slot) bool {
	return slices.EqualFunc(a, b, func(x, y Slot) bool {
		return x.Name == y.Name && slices.Equal(x.Values, y.Values)
	})
}

// Deep copies for the cache: every slice is the cache's own (strings are
// immutable and shared).

func cloneDocumentEntry(d *DocumentEntry) *DocumentEntry {
	c := *d
	c.ConfidentialityCodes = slices.Clone(d.ConfidentialityCodes)
	c.EventCodes = slices.Clone(d.EventCodes)
	c.Authors = cloneAuthors(d.Authors)
	c.SourcePatientInfo = slices.Clone(d.SourcePatientInfo)
	c.ReferenceIDs = slices.Clone(d.ReferenceIDs)
	c.ExtraSlots = cloneSlots(d.ExtraSlots)
	return &c
}

func cloneSubmissionSet(s *SubmissionSet) *SubmissionSet {
	c := *s
	c.Authors = cloneAuthors(s.Authors)
	c.IntendedRecipients = slices.Clone(s.IntendedRecipients)
	c.ExtraSlots = cloneSlots(s.ExtraSlots)
	return &c
}

func cloneFolder(f *Folder) *Folder {
	c := *f
	c.CodeList = slices.Clone(f.CodeList)
	c.ExtraSlots = cloneSlots(f.ExtraSlots)
	return &c
}

func cloneAssociation(a *Association) *Association {
	c := *a
	c.ExtraSlots = cloneSlots(a.ExtraSlots)
	return &c
}

func cloneAuthors(as []Author) []Author {
	if as == nil {
		return nil
	}
	out := make([]Author, len(as))
	for i, a := range as {
		out[i] = a
		out[i].Institutions = slices.Clone(a.Institutions)
		out[i].Roles = slices.Clone(a.Roles)
		out[i].Specialties = slices.Clone(a.Specialties)
		out[i].Telecommunications = slices.Clone(a.Telecommunications)
		out[i].ExtraSlots = cloneSlots(a.ExtraSlots)
	}
	return out
}

func cloneSlots(ss []Slot) []Slot {
	if ss == nil {
		return nil
	}
	out := make([]Slot, len(ss))
	for i, s := range ss {
		out[i] = Slot{Name: s.Name, Values: slices.Clone(s.Values)}
	}
	return out
}
