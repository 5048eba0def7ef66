package query

import (
	"context"
	"fmt"
	"strconv"

	"kjdd/xds/rim"
)

// queryRunner executes one stored query against the Source.
type queryRunner func(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error)

// queryRunners are the implementations of the 14 ITI-18 stored queries.
var queryRunners = map[string]queryRunner{
	QueryFindDocuments:               runFindDocuments,
	QueryFindDocumentsByReferenceID:  runFindDocuments, // the reference id filter is part of matchFindDocuments
	QueryFindSubmissionSets:          runFindSubmissionSets,
	QueryFindFolders:                 runFindFolders,
	QueryGetAll:                      runGetAll,
	QueryGetDocuments:                runGetDocuments,
	QueryGetFolders:                  runGetFolders,
	QueryGetAssociations:             runGetAssociations,
	QueryGetDocumentsAndAssociations: runGetDocumentsAndAssociations,
	QueryGetSubmissionSets:           runGetSubmissionSets,
	QueryGetSubmissionSetAndContents: runGetSubmissionSetAndContents,
	QueryGetFolderAndContents:        runGetFolderAndContents,
	QueryGetFoldersForDocument:       runGetFoldersForDocument,
	QueryGetRelatedDocuments:         runGetRelatedDocuments,
}

// Execute runs the stored query q against src with the semantics of
// ITI TF-2 3.18.4.1.2.3.7. It reads only through src's patient- or
// id-scoped methods, so its cost depends on the patient's data, never on the
// size of the registry.
//
// The result holds every matching object; ReturnType decides only how it is
// rendered, except that a LeafClass result spanning several patients fails
// with XDSResultNotSinglePatient. A result of more than maxResults objects
// (when maxResults > 0) fails with XDSTooManyResults and returns nothing.
//
// Associations are returned only when both of their ends are objects the
// caller can see (in the result, or found through src), so an association
// never reveals the entryUUID of an object src hides.
func Execute(ctx context.Context, q *StoredQuery, src Source, maxResults int) (*rim.QueryResult, error) {
	if q == nil || src == nil {
		return nil, rim.NewError(rim.XDSRegistryError, "internal: no query or no source")
	}
	run, ok := queryRunners[q.ID]
	if !ok {
		return nil, rim.NewError(rim.XDSUnknownStoredQuery, "stored query is not supported")
	}
	if q.ReturnType != rim.ReturnLeafClass && q.ReturnType != rim.ReturnObjectRef {
		// Fail closed: the single-patient rule depends on it.
		return nil, rim.NewError(rim.XDSRegistryError, "returnType must be LeafClass or ObjectRef")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := run(ctx, &q.Params, src)
	if err != nil {
		return nil, fmt.Errorf("stored query %s: %w", q.Name, err)
	}
	if q.ReturnType == rim.ReturnLeafClass && spansPatients(res) {
		return nil, rim.NewError(rim.XDSResultNotSinglePatient, "LeafClass result would span more than one patient; ask for ObjectRef")
	}
	if maxResults > 0 && res.Count() > maxResults {
		return nil, rim.NewError(rim.XDSTooManyResults, "more than "+strconv.Itoa(maxResults)+" objects match; narrow the query")
	}
	return res, nil
}

// spansPatients reports whether the result's DocumentEntries,
// SubmissionSets and Folders belong to more than one patient.
func spansPatients(r *rim.QueryResult) bool {
	first, seen := "", false
	other := func(p string) bool {
		if !seen {
			first, seen = p, true
		}
		return p != first
	}
	for _, de := range r.DocumentEntries {
		if other(de.PatientID) {
			return true
		}
	}
	for _, ss := range r.SubmissionSets {
		if other(ss.PatientID) {
			return true
		}
	}
	for _, f := range r.Folders {
		if other(f.PatientID) {
			return true
		}
	}
	return false
}

func runFindDocuments(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	des, err := src.DocumentEntriesByPatient(ctx, p.PatientID, p.DocumentEntryStatuses)
	if err != nil {
		return nil, err
	}
	// The source's entries are distinct objects (one per registry row, or
	// a masked copy with an id of its own), so they need no resultBuilder
	// and its de-duplication maps.
	var found []*rim.DocumentEntry
	for _, de := range des {
		if matchFindDocuments(de, p) {
			found = append(found, de)
		}
	}
	return &rim.QueryResult{DocumentEntries: found}, nil
}

func runFindSubmissionSets(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	sss, err := src.SubmissionSetsByPatient(ctx, p.PatientID, p.SubmissionSetStatuses)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, ss := range sss {
		if matchFindSubmissionSets(ss, p) {
			b.addSubmissionSet(ss)
		}
	}
	return b.result(), nil
}

func runFindFolders(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	fols, err := src.FoldersByPatient(ctx, p.PatientID, p.FolderStatuses)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, f := range fols {
		if matchFindFolders(f, p) {
			b.addFolder(f)
		}
	}
	return b.result(), nil
}

// runGetAll returns the patient's DocumentEntries, SubmissionSets and
// Folders that pass the status and content filters, and the associations
// among them.
func runGetAll(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	des, err := src.DocumentEntriesByPatient(ctx, p.PatientID, p.DocumentEntryStatuses)
	if err != nil {
		return nil, err
	}
	sss, err := src.SubmissionSetsByPatient(ctx, p.PatientID, p.SubmissionSetStatuses)
	if err != nil {
		return nil, err
	}
	fols, err := src.FoldersByPatient(ctx, p.PatientID, p.FolderStatuses)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, de := range des {
		if de.PatientID == p.PatientID && statusIn(de.Status, p.DocumentEntryStatuses) && matchContentFilter(de, p) {
			b.addDocument(de)
		}
	}
	for _, ss := range sss {
		if ss.PatientID == p.PatientID && statusIn(ss.Status, p.SubmissionSetStatuses) {
			b.addSubmissionSet(ss)
		}
	}
	for _, f := range fols {
		if f.PatientID == p.PatientID && statusIn(f.Status, p.FolderStatuses) {
			b.addFolder(f)
		}
	}
	if err := b.addAssociationsAmong(ctx, src); err != nil {
		return nil, err
	}
	return b.result(), nil
}

func runGetDocuments(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	l, sel := lookupByID(p.DocumentEntryUUIDs, p.DocumentEntryUniqueIDs)
	des, err := src.DocumentEntries(ctx, l)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, de := range des {
		if sel.selects(de.EntryUUID, de.UniqueID) {
			b.addDocument(de)
		}
	}
	return b.result(), nil
}

func runGetFolders(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	l, sel := lookupByID(p.FolderUUIDs, p.FolderUniqueIDs)
	fols, err := src.Folders(ctx, l)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, f := range fols {
		if sel.selects(f.EntryUUID, f.UniqueID) {
			b.addFolder(f)
		}
	}
	return b.result(), nil
}

// runGetAssociations returns the associations that have one of $uuid as
// source or target.
func runGetAssociations(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	assocs, err := src.AssociationsOf(ctx, p.UUIDs)
	if err != nil {
		return nil, err
	}
	ids := idSet(p.UUIDs)
	var cands []*rim.Association
	for _, a := range assocs {
		if ids[a.Source] || ids[a.Target] {
			cands = append(cands, a)
		}
	}
	var b resultBuilder
	kept, err := visibleAssociations(ctx, src, cands, nil)
	if err != nil {
		return nil, err
	}
	for _, a := range kept {
		b.addAssociation(a)
	}
	return b.result(), nil
}

// runGetDocumentsAndAssociations returns the DocumentEntries and the
// associations that have one of them as source or target.
func runGetDocumentsAndAssociations(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	res, err := runGetDocuments(ctx, p, src)
	if err != nil || len(res.DocumentEntries) == 0 {
		return res, err
	}
	var b resultBuilder
	for _, de := range res.DocumentEntries {
		b.addDocument(de)
	}
	ids := b.ids()
	assocs, err := src.AssociationsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	kept, err := visibleAssociations(ctx, src, assocs, idSet(ids))
	if err != nil {
		return nil, err
	}
	for _, a := range kept {
		b.addAssociation(a)
	}
	return b.result(), nil
}

// runGetSubmissionSets returns the SubmissionSets that have one of $uuid
// (DocumentEntries or Folders) as a member, with those HasMember
// associations.
func runGetSubmissionSets(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	assocs, err := src.AssociationsOf(ctx, p.UUIDs)
	if err != nil {
		return nil, err
	}
	members := idSet(p.UUIDs)
	var memberships []*rim.Association
	var sources []string
	for _, a := range assocs {
		if a.Type == rim.AssocHasMember && members[a.Target] {
			memberships = append(memberships, a)
			sources = append(sources, a.Source)
		}
	}
	if len(memberships) == 0 {
		return &rim.QueryResult{}, nil
	}
	sss, err := src.SubmissionSets(ctx, Lookup{EntryUUIDs: sources})
	if err != nil {
		return nil, err
	}
	visible, err := visibleObjects(ctx, src, p.UUIDs)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, ss := range sss {
		b.addSubmissionSet(ss)
	}
	for _, a := range memberships {
		if b.has(a.Source) && visible[a.Target] {
			b.addAssociation(a)
		}
	}
	b.dropUnlinkedSubmissionSets()
	return b.result(), nil
}

// runGetSubmissionSetAndContents returns the SubmissionSet, its member
// DocumentEntries (filtered by format code, confidentiality code and entry
// type) and Folders, and the HasMember associations among them, including
// member Folder-DocumentEntry associations.
func runGetSubmissionSetAndContents(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	l, sel := lookupByID(p.SubmissionSetUUIDs, p.SubmissionSetUniqueIDs)
	sss, err := src.SubmissionSets(ctx, l)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, ss := range sss {
		if !sel.selects(ss.EntryUUID, ss.UniqueID) {
			continue
		}
		b.addSubmissionSet(ss)
		assocs, err := src.AssociationsOf(ctx, []string{ss.EntryUUID})
		if err != nil {
			return nil, err
		}
		members := hasMemberFrom(assocs, ss.EntryUUID)
		targets := targetsOf(members)
		if len(targets) == 0 {
			continue
		}
		if err := b.addMemberObjects(ctx, src, targets, p); err != nil {
			return nil, err
		}
		// Member associations (Folder to DocumentEntry) are found among the
		// associations of the member folders.
		inner, err := associationsNamed(ctx, src, b.folderIDs(), idSet(targets))
		if err != nil {
			return nil, err
		}
		for _, a := range keepLinked(append(members, inner...), b.has) {
			b.addAssociation(a)
		}
	}
	return b.result(), nil
}

// runGetFolderAndContents returns the Folder, its member DocumentEntries
// (filtered as for GetSubmissionSetAndContents) and the Folder's HasMember
// associations to them.
func runGetFolderAndContents(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	l, sel := lookupByID(p.FolderUUIDs, p.FolderUniqueIDs)
	fols, err := src.Folders(ctx, l)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, f := range fols {
		if !sel.selects(f.EntryUUID, f.UniqueID) {
			continue
		}
		b.addFolder(f)
		assocs, err := src.AssociationsOf(ctx, []string{f.EntryUUID})
		if err != nil {
			return nil, err
		}
		members := hasMemberFrom(assocs, f.EntryUUID)
		targets := targetsOf(members)
		if len(targets) == 0 {
			continue
		}
		des, err := src.DocumentEntries(ctx, Lookup{EntryUUIDs: targets})
		if err != nil {
			return nil, err
		}
		for _, de := range des {
			if matchContentFilter(de, p) {
				b.addDocument(de)
			}
		}
		for _, a := range members {
			if b.hasDocument(a.Target) {
				b.addAssociation(a)
			}
		}
	}
	return b.result(), nil
}

// runGetFoldersForDocument returns the Folders that have the DocumentEntry
// as a member. The associations are not returned (NIST 11908).
func runGetFoldersForDocument(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	docs, err := runGetDocuments(ctx, p, src)
	if err != nil || len(docs.DocumentEntries) == 0 {
		return &rim.QueryResult{}, err
	}
	ids := idsOfDocuments(docs.DocumentEntries)
	assocs, err := src.AssociationsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	docSet := idSet(ids)
	var sources []string
	for _, a := range assocs {
		if a.Type == rim.AssocHasMember && docSet[a.Target] {
			sources = append(sources, a.Source)
		}
	}
	if len(sources) == 0 {
		return &rim.QueryResult{}, nil
	}
	fols, err := src.Folders(ctx, Lookup{EntryUUIDs: sources})
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	srcSet := idSet(sources)
	for _, f := range fols {
		if srcSet[f.EntryUUID] {
			b.addFolder(f)
		}
	}
	return b.result(), nil
}

// runGetRelatedDocuments returns the DocumentEntry, the DocumentEntries
// related to it by associations of the types asked for, and those
// associations; nothing when it has no such relatives.
func runGetRelatedDocuments(ctx context.Context, p *Params, src Source) (*rim.QueryResult, error) {
	docs, err := runGetDocuments(ctx, p, src)
	if err != nil {
		return nil, err
	}
	var b resultBuilder
	for _, de := range docs.DocumentEntries {
		if entryTypeIn(de.ObjectType, p.DocumentEntryTypes) {
			b.addDocument(de)
		}
	}
	focus := idsOfDocuments(b.res.DocumentEntries)
	if len(focus) == 0 {
		return &rim.QueryResult{}, nil
	}
	assocs, err := src.AssociationsOf(ctx, focus)
	if err != nil {
		return nil, err
	}
	focusSet, types := idSet(focus), idSet(p.AssociationTypes)
	var links []*rim.Association
	var others []string
	for _, a := range assocs {
		if !types[a.Type] {
			continue
		}
		switch {
		case focusSet[a.Source] && !focusSet[a.Target]:
			others = append(others, a.Target)
		case focusSet[a.Target] && !focusSet[a.Source]:
			others = append(others, a.Source)
		default:
			continue
		}
		links = append(links, a)
	}
	if len(others) == 0 {
		return &rim.QueryResult{}, nil
	}
	related, err := src.DocumentEntries(ctx, Lookup{EntryUUIDs: others})
	if err != nil {
		return nil, err
	}
	otherSet := idSet(others)
	for _, de := range related {
		if otherSet[de.EntryUUID] && entryTypeIn(de.ObjectType, p.DocumentEntryTypes) {
			b.addDocument(de)
		}
	}
	linked := 0
	for _, a := range links {
		if b.hasDocument(a.Source) && b.hasDocument(a.Target) {
			b.addAssociation(a)
			linked++
		}
	}
	if linked == 0 {
		return &rim.QueryResult{}, nil
	}
	b.dropUnlinkedDocuments(focusSet)
	return b.result(), nil
}

// idSelector tells whether an object found by a Lookup is one the query
// asked for: the Source is trusted to scope, but not to be exact.
type idSelector struct {
	uuids, uniqueIDs map[string]bool
}

// lookupByID returns the Lookup by uuids when given, else by uniqueIDs
// (never both), and the matching selector.
func lookupByID(uuids, uniqueIDs []string) (Lookup, idSelector) {
	if len(uuids) > 0 {
		return Lookup{EntryUUIDs: uuids}, idSelector{uuids: idSet(uuids)}
	}
	return Lookup{UniqueIDs: uniqueIDs}, idSelector{uniqueIDs: idSet(uniqueIDs)}
}

// selects reports whether the object is selected.
func (s idSelector) selects(entryUUID, uniqueID string) bool {
	if s.uuids != nil {
		return s.uuids[entryUUID]
	}
	return s.uniqueIDs[uniqueID]
}

// hasMemberFrom returns the HasMember associations whose source is id.
func hasMemberFrom(assocs []*rim.Association, id string) []*rim.Association {
	var out []*rim.Association
	for _, a := range assocs {
		if a.Type == rim.AssocHasMember && a.Source == id {
			out = append(out, a)
		}
	}
	return out
}

// targetsOf returns the target ids of assocs.
func targetsOf(assocs []*rim.Association) []string {
	out := make([]string, 0, len(assocs))
	for _, a := range assocs {
		out = append(out, a.Target)
	}
	return out
}

// idsOfDocuments returns the entryUUIDs of des.
func idsOfDocuments(des []*rim.DocumentEntry) []string {
	out := make([]string, 0, len(des))
	for _, de := range des {
		out = append(out, de.EntryUUID)
	}
	return out
}

// idSet returns the set of ids.
func idSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// associationsNamed returns the associations of the objects of ids whose
// own entryUUID is in names: the way to fetch associations that are
// targets of other associations through the Source port.
func associationsNamed(ctx context.Context, src Source, ids []string, names map[string]bool) ([]*rim.Association, error) {
	if len(ids) == 0 || len(names) == 0 {
		return nil, nil
	}
	assocs, err := src.AssociationsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []*rim.Association
	for _, a := range assocs {
		if names[a.EntryUUID] {
			out = append(out, a)
		}
	}
	return out, nil
}

// visibleObjects returns which of ids are DocumentEntries, SubmissionSets
// or Folders that src returns.
func visibleObjects(ctx context.Context, src Source, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	if len(ids) == 0 {
		return found, nil
	}
	l := Lookup{EntryUUIDs: ids}
	des, err := src.DocumentEntries(ctx, l)
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		found[de.EntryUUID] = true
	}
	sss, err := src.SubmissionSets(ctx, l)
	if err != nil {
		return nil, err
	}
	for _, ss := range sss {
		found[ss.EntryUUID] = true
	}
	fols, err := src.Folders(ctx, l)
	if err != nil {
		return nil, err
	}
	for _, f := range fols {
		found[f.EntryUUID] = true
	}
	wanted := idSet(ids)
	for id := range found {
		if !wanted[id] {
			delete(found, id)
		}
	}
	return found, nil
}

// visibleAssociations returns the candidates whose both ends exist for the
// caller: an object in known, an object src finds, or an association that
// itself qualifies (a SubmissionSet's HasMember to a Folder-DocumentEntry
// association). Such member associations are looked up among the
// associations of the visible ends.
func visibleAssociations(ctx context.Context, src Source, cands []*rim.Association, known map[string]bool) ([]*rim.Association, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	candIDs := map[string]bool{}
	for _, a := range cands {
		candIDs[a.EntryUUID] = true
	}
	var ends []string
	seen := map[string]bool{}
	for _, a := range cands {
		for _, id := range []string{a.Source, a.Target} {
			if !known[id] && !candIDs[id] && !seen[id] {
				seen[id] = true
				ends = append(ends, id)
			}
		}
	}
	visible, err := visibleObjects(ctx, src, ends)
	if err != nil {
		return nil, err
	}
	present := func(id string) bool { return known[id] || visible[id] }
	unresolved := map[string]bool{}
	var resolved []string
	for _, id := range ends {
		if visible[id] {
			resolved = append(resolved, id)
		} else {
			unresolved[id] = true
		}
	}
	for id := range known {
		resolved = append(resolved, id)
	}
	extra, err := associationsNamed(ctx, src, resolved, unresolved)
	if err != nil {
		return nil, err
	}
	kept := idSet(nil)
	for _, a := range keepLinked(append(append([]*rim.Association{}, cands...), extra...), present) {
		kept[a.EntryUUID] = true
	}
	var out []*rim.Association
	for _, a := range cands {
		if kept[a.EntryUUID] {
			out = append(out, a)
		}
	}
	return out, nil
}

// keepLinked returns the associations whose source and target are each
// present or another kept association, in their original order. It
// iterates to a fixed point because an association may target another.
func keepLinked(assocs []*rim.Association, present func(string) bool) []*rim.Association {
	kept := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, a := range assocs {
			if kept[a.EntryUUID] {
				continue
			}
			if (present(a.Source) || kept[a.Source]) && (present(a.Target) || kept[a.Target]) {
				kept[a.EntryUUID] = true
				changed = true
			}
		}
	}
	var out []*rim.Association
	done := map[string]bool{}
	for _, a := range assocs {
		if kept[a.EntryUUID] && !done[a.EntryUUID] {
			done[a.EntryUUID] = true
			out = append(out, a)
		}
	}
	return out
}

// resultBuilder collects a QueryResult without duplicates, keeping the
// order in which objects were found.
type resultBuilder struct {
	res     rim.QueryResult
	objects map[string]bool // DocumentEntries, SubmissionSets, Folders
	docs    map[string]bool
	assocs  map[string]bool
}

func (b *resultBuilder) addDocument(de *rim.DocumentEntry) {
	if b.objects[de.EntryUUID] {
		return
	}
	b.mark(de.EntryUUID)
	b.docs[de.EntryUUID] = true
	b.res.DocumentEntries = append(b.res.DocumentEntries, de)
}

func (b *resultBuilder) addSubmissionSet(ss *rim.SubmissionSet) {
	if b.objects[ss.EntryUUID] {
		return
	}
	b.mark(ss.EntryUUID)
	b.res.SubmissionSets = append(b.res.SubmissionSets, ss)
}

func (b *resultBuilder) addFolder(f *rim.Folder) {
	if b.objects[f.EntryUUID] {
		return
	}
	b.mark(f.EntryUUID)
	b.res.Folders = append(b.res.Folders, f)
}

func (b *resultBuilder) addAssociation(a *rim.Association) {
	if b.assocs == nil {
		b.assocs = map[string]bool{}
	}
	if b.assocs[a.EntryUUID] {
		return
	}
	b.assocs[a.EntryUUID] = true
	b.res.Associations = append(b.res.Associations, a)
}

// mark records an object id.
func (b *resultBuilder) mark(id string) {
	if b.objects == nil {
		b.objects, b.docs = map[string]bool{}, map[string]bool{}
	}
	b.objects[id] = true
}

// has reports whether the result holds the DocumentEntry, SubmissionSet or
// Folder id.
func (b *resultBuilder) has(id string) bool { return b.objects[id] }

// hasDocument reports whether the result holds the DocumentEntry id.
func (b *resultBuilder) hasDocument(id string) bool { return b.docs[id] }

// ids returns the entryUUIDs of the result's DocumentEntries,
// SubmissionSets and Folders.
func (b *resultBuilder) ids() []string {
	ids := idsOfDocuments(b.res.DocumentEntries)
	for _, ss := range b.res.SubmissionSets {
		ids = append(ids, ss.EntryUUID)
	}
	return append(ids, b.folderIDs()...)
}

// folderIDs returns the entryUUIDs of the result's Folders.
func (b *resultBuilder) folderIDs() []string {
	ids := make([]string, 0, len(b.res.Folders))
	for _, f := range b.res.Folders {
		ids = append(ids, f.EntryUUID)
	}
	return ids
}

// addMemberObjects adds the DocumentEntries (passing the content filter)
// and Folders among ids.
func (b *resultBuilder) addMemberObjects(ctx context.Context, src Source, ids []string, p *Params) error {
	l := Lookup{EntryUUIDs: ids}
	des, err := src.DocumentEntries(ctx, l)
	if err != nil {
		return err
	}
	want := idSet(ids)
	for _, de := range des {
		if want[de.EntryUUID] && matchContentFilter(de, p) {
			b.addDocument(de)
		}
	}
	fols, err := src.Folders(ctx, l)
	if err != nil {
		return err
	}
	for _, f := range fols {
		if want[f.EntryUUID] {
			b.addFolder(f)
		}
	}
	return nil
}

// addAssociationsAmong adds the associations whose both ends are in the
// result (or are such associations).
func (b *resultBuilder) addAssociationsAmong(ctx context.Context, src Source) error {
	ids := b.ids()
	if len(ids) == 0 {
		return nil
	}
	assocs, err := src.AssociationsOf(ctx, ids)
	if err != nil {
		return err
	}
	in := idSet(ids)
	for _, a := range keepLinked(assocs, func(id string) bool { return in[id] }) {
		b.addAssociation(a)
	}
	return nil
}

// dropUnlinkedSubmissionSets removes SubmissionSets no kept association
// starts from (their membership could not be confirmed).
func (b *resultBuilder) dropUnlinkedSubmissionSets() {
	linked := map[string]bool{}
	for _, a := range b.res.Associations {
		linked[a.Source] = true
	}
	var keep []*rim.SubmissionSet
	for _, ss := range b.res.SubmissionSets {
		if linked[ss.EntryUUID] {
			keep = append(keep, ss)
		} else {
			delete(b.objects, ss.EntryUUID)
		}
	}
	b.res.SubmissionSets = keep
}

// dropUnlinkedDocuments removes focus DocumentEntries that ended up with no
// kept association.
func (b *resultBuilder) dropUnlinkedDocuments(focus map[string]bool) {
	linked := map[string]bool{}
	for _, a := range b.res.Associations {
		linked[a.Source], linked[a.Target] = true, true
	}
	var keep []*rim.DocumentEntry
	for _, de := range b.res.DocumentEntries {
		if !focus[de.EntryUUID] || linked[de.EntryUUID] {
			keep = append(keep, de)
		} else {
			delete(b.objects, de.EntryUUID)
			delete(b.docs, de.EntryUUID)
		}
	}
	b.res.DocumentEntries = keep
}

// result returns the collected result.
func (b *resultBuilder) result() *rim.QueryResult {
	r := b.res
	return &r
}
