package registry

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"kjdd/adapter/store"
	"kjdd/xds/hl7"
	"kjdd/xds/query"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
	"kjdd/xds/validate"
)

// dtmLayout is the HL7 DTM form the registry writes (UTC, to the second).
const dtmLayout = "20060102150405"

// Register registers a submission: ITI-42 (metadata of documents kept in the
// EPJ's repository) or ITI-41 (metadata and content, which kjdd's own
// repository stores). It is all or nothing: any error leaves the registry
// as it was.
//
// Errors of the submission are returned as rim.RegistryErrors with the most
// specific IHE code; other errors (database, reading content) are internal
// and render as XDSRegistryError without detail. warnings are returned on
// success. Nothing is dropped from the metadata (extra slots are kept), so
// XDSExtraMetadataNotSaved never occurs.
//
// A DocumentEntry whose uniqueId is already registered is rejected (ITI TF-3
// Table 4.2.4.1-2): with XDSNonIdenticalHash or XDSNonIdenticalSize when its
// content differs from the registered one; when it is identical, with
// XDSDuplicateUniqueIdInRegistry. The table reserves that code for
// SubmissionSets and Folders, but a uniqueId must name exactly one
// DocumentEntry for retrieve by uniqueId to be unambiguous, and kjdd has no
// metadata update (ITI-57) through which a second registration could mean
// a new version, so an identical resubmission is refused too rather than
// silently accepted or stored twice.
//
// Rules that need the registry: every association end outside the
// submission must exist (else XDSRegistryError "unresolved reference"); no
// association may reference a DocumentEntry that is not Approved; RPLC,
// APND, XFRM and XFRM_RPLC targets must be DocumentEntries, and linked
// registry objects must belong to the submission's patient. RPLC and
// XFRM_RPLC deprecate their target; adding to a registered Folder updates
// its lastUpdateTime. Registrations for one patient are serialised, so two
// concurrent replacements of one document cannot both succeed.
func (r *Registry) Register(ctx context.Context, sub *rim.Submission, tx validate.Transaction) (warnings rim.RegistryErrors, err error) {
	opts := r.opts.Validation
	opts.Transaction = tx
	found := validate.Submission(sub, opts)
	if found.HasErrors() {
		return nil, found
	}
	warnings = found
	if sub == nil || sub.SubmissionSet == nil {
		// Validation reports these; never let a relaxed rule reach a nil.
		return nil, rim.NewError(rim.XDSRegistryMetadataError, "submission without a SubmissionSet")
	}

	rim.AssignEntryUUIDs(sub, r.opts.NewUUID)
	for _, a := range sub.Associations {
		if a.EntryUUID == "" {
			a.EntryUUID = r.opts.NewUUID()
		}
	}
	reg := &registration{
		sub:        sub,
		tx:         tx,
		repository: r.opts.RepositoryUniqueID,
		now:        r.opts.Now().UTC(),
	}
	err = r.store.Register(ctx, func(stx *store.Tx) error { return reg.run(ctx, stx) })
	if err == nil {
		if r.opts.OnRegistered != nil {
			r.opts.OnRegistered(ctx, submissionPatients(sub))
		}
		return warnings, nil
	}
	if list, ok := rim.AsRegistryErrors(err); ok {
		return nil, list
	}
	switch {
	case errors.Is(err, store.ErrDuplicate):
		// Only reachable when a concurrent registration took a uniqueId
		// between our check and our insert.
		return nil, rim.NewError(rim.XDSDuplicateUniqueIDInRegistry, "a uniqueId of the submission was registered concurrently")
	case errors.Is(err, store.ErrBusy):
		return nil, rim.NewError(rim.XDSRegistryBusy, "the registry is busy, try again")
	}
	return nil, fmt.Errorf("register: %w", err)
}

// SubmissionSetRegistered reports whether a SubmissionSet with uniqueID is in
// the registry (of any status).
func (r *Registry) SubmissionSetRegistered(ctx context.Context, uniqueID string) (bool, error) {
	got, err := r.store.SubmissionSets(ctx, query.Lookup{UniqueIDs: []string{uniqueID}})
	if err != nil {
		return false, err
	}
	return len(got) > 0, nil
}

// registration is one Register call inside its store transaction.
type registration struct {
	sub        *rim.Submission
	tx         validate.Transaction
	repository string
	now        time.Time

	problems rim.RegistryErrors
	// registry objects the submission refers to, by entryUUID
	existingEntries map[string]*rim.DocumentEntry
	existingFolders map[string]*rim.Folder
	existingSets    map[string]*rim.SubmissionSet
	existingAssocs  map[string]*rim.Association
	// new objects, by entryUUID
	newEntries map[string]*rim.DocumentEntry
	newFolders map[string]*rim.Folder
	// effects decided by the checks
	deprecate    []string
	touchFolders []string
}

func (g *registration) fail(code rim.ErrorCode, format string, args ...any) {
	g.problems = append(g.problems, rim.NewError(code, hl7.RedactNationalIDs(fmt.Sprintf(format, args...))))
}

func (g *registration) run(ctx context.Context, tx *store.Tx) error {
	ss := g.sub.SubmissionSet
	// Decisions below depend on the patient's registry state (is the
	// document still Approved?); hold it still until commit.
	if err := tx.LockPatient(ctx, ss.PatientID); err != nil {
		return err
	}
	g.index()
	steps := []func(context.Context, *store.Tx) error{
		g.checkNewIDs,
		g.checkSubmissionSetAndFolderUniqueIDs,
		g.checkDocumentUniqueIDs,
		g.resolveReferences,
	}
	for _, step := range steps {
		if err := step(ctx, tx); err != nil {
			return err
		}
	}
	if len(g.problems) > 0 {
		return g.problems
	}
	g.checkAssociations()
	if len(g.problems) > 0 {
		return g.problems
	}
	if g.tx == validate.ITI41 {
		if err := g.storeContent(ctx, tx); err != nil {
			return err
		}
		if len(g.problems) > 0 {
			return g.problems
		}
	}
	return g.write(ctx, tx)
}

func (g *registration) index() {
	g.newEntries = make(map[string]*rim.DocumentEntry, len(g.sub.DocumentEntries))
	for _, de := range g.sub.DocumentEntries {
		g.newEntries[de.EntryUUID] = de
	}
	g.newFolders = make(map[string]*rim.Folder, len(g.sub.Folders))
	for _, f := range g.sub.Folders {
		g.newFolders[f.EntryUUID] = f
	}
}

// inSubmission reports whether id names an object of the submission.
func (g *registration) inSubmission(id string) bool {
	if g.sub.SubmissionSet.EntryUUID == id {
		return true
	}
	if g.newEntries[id] != nil || g.newFolders[id] != nil {
		return true
	}
	for _, a := range g.sub.Associations {
		if a.EntryUUID == id {
			return true
		}
	}
	return false
}

// checkNewIDs refuses entryUUIDs, chosen by the submitter, that an object in
// the registry already has.
func (g *registration) checkNewIDs(ctx context.Context, tx *store.Tx) error {
	ids := []string{g.sub.SubmissionSet.EntryUUID}
	for _, de := range g.sub.DocumentEntries {
		ids = append(ids, de.EntryUUID)
	}
	for _, f := range g.sub.Folders {
		ids = append(ids, f.EntryUUID)
	}
	for _, a := range g.sub.Associations {
		ids = append(ids, a.EntryUUID)
	}
	taken, err := g.lookupAny(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if taken[id] {
			g.fail(rim.XDSRegistryMetadataError, "entryUUID %s is already used by an object in the registry", id)
		}
	}
	return nil
}

// lookupAny returns which of ids name a registry object of any kind.
func (g *registration) lookupAny(ctx context.Context, tx *store.Tx, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	l := query.Lookup{EntryUUIDs: ids}
	des, err := tx.DocumentEntries(ctx, l)
	if err != nil {
		return nil, err
	}
	for _, o := range des {
		found[o.EntryUUID] = true
	}
	fs, err := tx.Folders(ctx, l)
	if err != nil {
		return nil, err
	}
	for _, o := range fs {
		found[o.EntryUUID] = true
	}
	sets, err := tx.SubmissionSets(ctx, l)
	if err != nil {
		return nil, err
	}
	for _, o := range sets {
		found[o.EntryUUID] = true
	}
	as, err := tx.Associations(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, o := range as {
		found[o.EntryUUID] = true
	}
	return found, nil
}

// checkSubmissionSetAndFolderUniqueIDs: XDSDuplicateUniqueIdInRegistry.
func (g *registration) checkSubmissionSetAndFolderUniqueIDs(ctx context.Context, tx *store.Tx) error {
	ss := g.sub.SubmissionSet
	sets, err := tx.SubmissionSets(ctx, query.Lookup{UniqueIDs: []string{ss.UniqueID}})
	if err != nil {
		return err
	}
	if len(sets) > 0 {
		g.fail(rim.XDSDuplicateUniqueIDInRegistry, "SubmissionSet uniqueId %s is already registered", ss.UniqueID)
	}
	if len(g.sub.Folders) == 0 {
		return nil
	}
	uids := make([]string, 0, len(g.sub.Folders))
	for _, f := range g.sub.Folders {
		uids = append(uids, f.UniqueID)
	}
	folders, err := tx.Folders(ctx, query.Lookup{UniqueIDs: uids})
	if err != nil {
		return err
	}
	for _, f := range folders {
		g.fail(rim.XDSDuplicateUniqueIDInRegistry, "Folder uniqueId %s is already registered", f.UniqueID)
	}
	return nil
}

// checkDocumentUniqueIDs compares DocumentEntries whose uniqueId is already
// registered with the registered one (see Register).
func (g *registration) checkDocumentUniqueIDs(ctx context.Context, tx *store.Tx) error {
	if len(g.sub.DocumentEntries) == 0 {
		return nil
	}
	uids := make([]string, 0, len(g.sub.DocumentEntries))
	for _, de := range g.sub.DocumentEntries {
		uids = append(uids, de.UniqueID)
	}
	registered, err := tx.DocumentEntries(ctx, query.Lookup{UniqueIDs: uids})
	if err != nil {
		return err
	}
	if len(registered) == 0 {
		return nil
	}
	byUID := make(map[string]*rim.DocumentEntry, len(registered))
	for _, e := range registered {
		byUID[e.UniqueID] = e
	}
	for _, de := range g.sub.DocumentEntries {
		old := byUID[de.UniqueID]
		if old == nil {
			continue
		}
		hash, size, hasSize := de.Hash, de.Size, de.HasSize
		if g.tx == validate.ITI41 {
			// The content decides, not what the submitter says about it.
			if hash, size, err = g.hashDocument(de.EntryUUID); err != nil {
				return err
			}
			hasSize = true
		}
		differs := false
		if !strings.EqualFold(hash, old.Hash) {
			g.fail(rim.XDSNonIdenticalHash, "document %s is registered with a different hash", de.UniqueID)
			differs = true
		}
		if hasSize && old.HasSize && size != old.Size {
			g.fail(rim.XDSNonIdenticalSize, "document %s is registered with a different size", de.UniqueID)
			differs = true
		}
		if !differs {
			g.fail(rim.XDSDuplicateUniqueIDInRegistry, "DocumentEntry uniqueId %s is already registered", de.UniqueID)
		}
	}
	return nil
}

// document returns the content supplied for the DocumentEntry with
// entryUUID (ITI-41; validation made it exist).
func (g *registration) document(entryUUID string) soap.Blob {
	for _, d := range g.sub.Documents {
		if d.ID == entryUUID {
			return d.Content
		}
	}
	return nil
}

// hashDocument streams a supplied document through SHA-1 without storing it.
func (g *registration) hashDocument(entryUUID string) (string, int64, error) {
	blob := g.document(entryUUID)
	if blob == nil {
		return "", 0, fmt.Errorf("no content for %s", entryUUID)
	}
	rc, err := blob.Open()
	if err != nil {
		return "", 0, fmt.Errorf("open document: %w", err)
	}
	defer func() { _ = rc.Close() }()
	h := sha1.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", 0, fmt.Errorf("read document: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// resolveReferences loads every registry object an association of the
// submission points to; a urn:uuid that names nothing is an error.
func (g *registration) resolveReferences(ctx context.Context, tx *store.Tx) error {
	var refs []string
	seen := map[string]bool{}
	for _, a := range g.sub.Associations {
		for _, end := range []string{a.Source, a.Target} {
			if !seen[end] && !g.inSubmission(end) {
				seen[end] = true
				refs = append(refs, end)
			}
		}
	}
	g.existingEntries = map[string]*rim.DocumentEntry{}
	g.existingFolders = map[string]*rim.Folder{}
	g.existingSets = map[string]*rim.SubmissionSet{}
	g.existingAssocs = map[string]*rim.Association{}
	if len(refs) == 0 {
		return nil
	}
	l := query.Lookup{EntryUUIDs: refs}
	des, err := tx.DocumentEntries(ctx, l)
	if err != nil {
		return err
	}
	for _, o := range des {
		g.existingEntries[o.EntryUUID] = o
	}
	fs, err := tx.Folders(ctx, l)
	if err != nil {
		return err
	}
	for _, o := range fs {
		g.existingFolders[o.EntryUUID] = o
	}
	sets, err := tx.SubmissionSets(ctx, l)
	if err != nil {
		return err
	}
	for _, o := range sets {
		g.existingSets[o.EntryUUID] = o
	}
	as, err := tx.Associations(ctx, refs)
	if err != nil {
		return err
	}
	for _, o := range as {
		g.existingAssocs[o.EntryUUID] = o
	}
	for _, id := range refs {
		if g.existingEntries[id] == nil && g.existingFolders[id] == nil && g.existingSets[id] == nil && g.existingAssocs[id] == nil {
			g.fail(rim.XDSRegistryError, "unresolved reference: %s is neither in the submission nor in the registry", id)
		}
	}
	return nil
}

// patientOf returns the patient of an object of the submission or of the
// registry; "" for associations.
func (g *registration) patientOf(id string) string {
	switch {
	case id == g.sub.SubmissionSet.EntryUUID:
		return g.sub.SubmissionSet.PatientID
	case g.newEntries[id] != nil:
		return g.newEntries[id].PatientID
	case g.newFolders[id] != nil:
		return g.newFolders[id].PatientID
	case g.existingEntries[id] != nil:
		return g.existingEntries[id].PatientID
	case g.existingFolders[id] != nil:
		return g.existingFolders[id].PatientID
	case g.existingSets[id] != nil:
		return g.existingSets[id].PatientID
	}
	return ""
}

// relationships are the association types that point from a new document
// to a registered one that must still be Approved.
var relationships = map[string]bool{rim.AssocRPLC: true, rim.AssocAPND: true, rim.AssocXFRM: true, rim.AssocXFRMRPLC: true}

// replacements deprecate their target.
var replacements = map[string]bool{rim.AssocRPLC: true, rim.AssocXFRMRPLC: true}

// checkAssociations applies the rules that need the registry: no
// association may reference a registered DocumentEntry that is not
// Approved (XDSRegistryDeprecatedDocumentError); relationship targets must
// be registered DocumentEntries; an object of the submission may only be
// linked to registry objects of its own patient.
func (g *registration) checkAssociations() {
	deprecated := map[string]bool{} // by a replacement earlier in this submission
	for _, a := range g.sub.Associations {
		name := a.Type[strings.LastIndexByte(a.Type, ':')+1:]
		if relationships[a.Type] && !g.inSubmission(a.Target) && g.existingEntries[a.Target] == nil {
			g.fail(rim.XDSRegistryMetadataError, "target %s of %s association %s is not a DocumentEntry", a.Target, name, a.EntryUUID)
			continue
		}
		stale := false
		for _, end := range []string{a.Source, a.Target} {
			if e := g.existingEntries[end]; e != nil && (e.Status != rim.StatusApproved || deprecated[end]) {
				g.fail(rim.XDSRegistryDeprecatedDocumentError, "%s association %s references %s, which is not Approved", name, a.EntryUUID, end)
				stale = true
			}
		}
		if stale {
			continue
		}
		from, to := g.patientOf(a.Source), g.patientOf(a.Target)
		if from != "" && to != "" && from != to && (!g.inSubmission(a.Source) || !g.inSubmission(a.Target)) {
			g.fail(rim.XDSPatientIDDoesNotMatch, "%s association %s links objects of different patients", name, a.EntryUUID)
			continue
		}
		if replacements[a.Type] && g.existingEntries[a.Target] != nil {
			deprecated[a.Target] = true
			g.deprecate = append(g.deprecate, a.Target)
		}
		if a.Type == rim.AssocHasMember && g.existingFolders[a.Source] != nil {
			g.touchFolders = append(g.touchFolders, a.Source)
		}
	}
}

// storeContent streams each ITI-41 document into the repository and sets
// hash, size and repositoryUniqueId on its DocumentEntry; a hash or size the
// submitter supplied must match the content.
func (g *registration) storeContent(ctx context.Context, tx *store.Tx) error {
	for _, de := range g.sub.DocumentEntries {
		blob := g.document(de.EntryUUID)
		if blob == nil {
			g.fail(rim.XDSMissingDocument, "no document supplied for DocumentEntry %s", de.UniqueID)
			continue
		}
		rc, err := blob.Open()
		if err != nil {
			return fmt.Errorf("open document: %w", err)
		}
		size, hash, err := tx.PutContent(ctx, de.UniqueID, rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
		if de.Hash != "" && !strings.EqualFold(de.Hash, hash) {
			g.fail(rim.XDSRepositoryMetadataError, "hash given for document %s does not match its content", de.UniqueID)
		}
		if de.HasSize && de.Size != size {
			g.fail(rim.XDSRepositoryMetadataError, "size given for document %s (%s) does not match its content (%s)",
				de.UniqueID, strconv.FormatInt(de.Size, 10), strconv.FormatInt(size, 10))
		}
		de.Hash, de.Size, de.HasSize = hash, size, true
		de.RepositoryUniqueID = g.repository
	}
	return nil
}

// write stores the submission's objects as registered (Approved, version
// 1) and applies the effects on registry objects.
func (g *registration) write(ctx context.Context, tx *store.Tx) error {
	now := g.now.Format(dtmLayout)
	ss := g.sub.SubmissionSet
	ss.Status, ss.LogicalID = rim.StatusApproved, ss.EntryUUID
	if err := tx.InsertSubmissionSet(ctx, ss); err != nil {
		return err
	}
	for _, de := range g.sub.DocumentEntries {
		de.Status, de.LogicalID, de.Version = rim.StatusApproved, de.EntryUUID, "1"
		if err := tx.InsertDocumentEntry(ctx, de); err != nil {
			return err
		}
	}
	for _, f := range g.sub.Folders {
		f.Status, f.LogicalID, f.LastUpdateTime = rim.StatusApproved, f.EntryUUID, now
		if err := tx.InsertFolder(ctx, f); err != nil {
			return err
		}
	}
	for _, a := range g.sub.Associations {
		a.Status = rim.StatusApproved
		if err := tx.InsertAssociation(ctx, a); err != nil {
			return err
		}
	}
	for _, id := range g.deprecate {
		if err := tx.SetStatus(ctx, id, rim.StatusDeprecated); err != nil {
			return err
		}
	}
	for _, id := range g.touchFolders {
		if err := tx.SetFolderLastUpdateTime(ctx, id, now); err != nil {
			return err
		}
	}
	return nil
}
