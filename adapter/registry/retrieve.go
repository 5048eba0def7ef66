package registry

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"kjdd/adapter/access"
	"kjdd/adapter/store"
	"kjdd/xds/hl7"
	"kjdd/xds/query"
	"kjdd/xds/rim"
	"kjdd/xds/validate"
)

// RetrievedDocument is one document found for a retrieve, with its content
// open for streaming. The caller must Close Content.
type RetrievedDocument struct {
	HomeCommunityID    string
	RepositoryUniqueID string
	DocumentUniqueID   string
	MimeType           string
	Content            io.ReadCloser
}

// RetrieveResult is the outcome of a retrieve: the documents found and an
// error per document that was not.
type RetrieveResult struct {
	Documents []RetrievedDocument
	Errors    rim.RegistryErrors
}

// Close closes every document's content.
func (rr *RetrieveResult) Close() {
	for _, d := range rr.Documents {
		if d.Content != nil {
			_ = d.Content.Close()
		}
	}
}

// Retrieve answers ITI-43 or (cred.Transaction ITI-39) ITI-39. Each
// request is answered on its own: several documents may succeed while
// others fail (PartialSuccess). A document the caller may not see is
// answered exactly as a document that does not exist.
func (r *Registry) Retrieve(ctx context.Context, cred access.Credentials, reqs []rim.DocumentRequest) (*RetrieveResult, error) {
	caller, err := r.gate.Authenticate(ctx, cred)
	if err != nil {
		return nil, err
	}
	xca := cred.Transaction == access.ITI39
	res := &RetrieveResult{}
	src := r.source(caller)
	for _, req := range reqs {
		doc, rerr := r.retrieveOne(ctx, src, req, xca)
		if rerr != nil {
			if xca && rerr.Location == "" {
				rerr.Location = hl7.URNOID(r.opts.HomeCommunityID)
			}
			res.Errors = append(res.Errors, rerr)
			continue
		}
		res.Documents = append(res.Documents, *doc)
	}
	return res, nil
}

func (r *Registry) retrieveOne(ctx context.Context, src query.Source, req rim.DocumentRequest, xca bool) (*RetrievedDocument, *rim.RegistryError) {
	ctxt := "document " + req.DocumentUniqueID
	switch {
	case req.HomeCommunityID == "" && xca:
		return nil, rim.NewError(rim.XDSMissingHomeCommunityID, "HomeCommunityId is required in a cross gateway retrieve")
	case req.HomeCommunityID != "" && !r.ownCommunity(req.HomeCommunityID):
		return nil, rim.NewError(rim.XDSUnknownCommunity, "HomeCommunityId is not served by this gateway")
	}
	repo := hl7.NormalizeOID(req.RepositoryUniqueID)
	own := repo == r.opts.RepositoryUniqueID
	if !own && (r.epj == nil || !r.epj.Serves(repo)) {
		return nil, rim.NewError(rim.XDSUnknownRepositoryID, "repository "+req.RepositoryUniqueID+" is not known here")
	}
	unknown := rim.NewError(rim.XDSDocumentUniqueIDError, ctxt+" is not available")
	if req.DocumentUniqueID == "" {
		return nil, unknown
	}
	entries, err := src.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{req.DocumentUniqueID}})
	if err != nil {
		slog.ErrorContext(ctx, "retrieve: registry lookup failed", "err", err)
		return nil, rim.NewError(rim.XDSRepositoryError, "the registry could not be read")
	}
	var entry *rim.DocumentEntry
	for _, e := range entries {
		// Compare the uniqueId too: a policy may hand back a masked copy
		// under another id, which must never open the real content.
		if e.UniqueID == req.DocumentUniqueID && hl7.NormalizeOID(e.RepositoryUniqueID) == repo {
			entry = e
			break
		}
	}
	if entry == nil {
		return nil, unknown
	}
	doc := &RetrievedDocument{
		HomeCommunityID:    req.HomeCommunityID,
		RepositoryUniqueID: req.RepositoryUniqueID,
		DocumentUniqueID:   req.DocumentUniqueID,
		MimeType:           entry.MimeType,
	}
	if xca && doc.HomeCommunityID != "" {
		doc.HomeCommunityID = hl7.URNOID(r.opts.HomeCommunityID)
	}
	if own {
		rc, err := r.store.OpenContent(ctx, entry.UniqueID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, unknown
		}
		if err != nil {
			slog.ErrorContext(ctx, "retrieve: content could not be opened", "err", err)
			return nil, rim.NewError(rim.XDSRepositoryError, "the repository could not be read")
		}
		doc.Content = rc
		return doc, nil
	}
	got, err := r.epj.Retrieve(ctx, repo, entry.UniqueID)
	if err != nil {
		if re, ok := rim.AsRegistryErrors(err); ok && len(re) > 0 {
			if re[0].Code == rim.XDSDocumentUniqueIDError {
				return nil, unknown
			}
			return nil, re[0]
		}
		slog.WarnContext(ctx, "retrieve: EPJ repository failed", "repository", repo, "err", err)
		return nil, rim.NewError(rim.XDSRepositoryError, "document source unavailable")
	}
	doc.Content = got.Content
	if got.MimeType != "" {
		doc.MimeType = got.MimeType
	}
	return doc, nil
}

// Submit authenticates the caller and registers a submission (ITI-41 or
// ITI-42).
func (r *Registry) Submit(ctx context.Context, cred access.Credentials, sub *rim.Submission) (rim.RegistryErrors, error) {
	if _, err := r.gate.Authenticate(ctx, cred); err != nil {
		return nil, err
	}
	tx := validate.ITI42
	if cred.Transaction == access.ITI41 {
		tx = validate.ITI41
	}
	warnings, err := r.Register(ctx, sub, tx)
	if err != nil {
		return nil, err
	}
	// Deviations the parser tolerated are reported with the success.
	return append(sub.Warnings, warnings...), nil
}
