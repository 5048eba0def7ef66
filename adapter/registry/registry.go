// Package registry holds kjdd's use cases: register documents from the EPJ,
// answer stored queries, and retrieve documents, for the XDS.b and XCA
// surfaces alike. Every use case authenticates its caller and filters what
// the caller may see through the one access.Gate.
package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"kjdd/adapter/access"
	"kjdd/adapter/epj"
	"kjdd/adapter/store"
	"kjdd/xds/hl7"
	"kjdd/xds/query"
	"kjdd/xds/rim"
	"kjdd/xds/validate"
)

// Options configure the registry.
type Options struct {
	HomeCommunityID    string // bare OID
	RepositoryUniqueID string // bare OID of kjdd's own repository
	Validation         validate.Options
	MaxResults         int
	NewUUID            func() string
	Now                func() time.Time
	// OnRegistered, when set, is called after every successful
	// registration with the patient ids (CX) the submission was about, so
	// that what depends on a patient's documents (the sperring caches) can
	// take the change at once.
	OnRegistered func(ctx context.Context, patientIDs []string)
}

// Registry is the XDS.b registry and repository and the XCA responding
// gateway's application core.
type Registry struct {
	store *store.Store
	epj   *epj.Client
	gate  access.Gate
	opts  Options
}

// New returns a Registry over st. epjClient may be nil when no EPJ
// repositories are configured. A nil gate refuses every caller: a registry
// wired without its gate must not fail open.
func New(st *store.Store, opts Options, epjClient *epj.Client, gate access.Gate) *Registry {
	if opts.NewUUID == nil {
		opts.NewUUID = NewUUID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = 1000
	}
	if gate == nil {
		gate = refuseAll{}
	}
	return &Registry{store: st, epj: epjClient, gate: gate, opts: opts}
}

// HomeCommunityID is the community this registry answers for.
func (r *Registry) HomeCommunityID() string { return r.opts.HomeCommunityID }

// NewUUID returns a random (version 4) urn:uuid.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// source returns the registry as the caller may see it.
func (r *Registry) source(c *access.Caller) query.Source {
	return access.GuardedSource{Source: r.store, Gate: r.gate, Caller: c}
}

// ownCommunity reports whether home (bare or urn:oid:) names this community.
func (r *Registry) ownCommunity(home string) bool {
	return hl7.NormalizeOID(home) == r.opts.HomeCommunityID
}

// withLocation sets the responding gateway's homeCommunityId as location on
// every error of an XCA answer (ITI TF-2 3.38.4.1.3).
func (r *Registry) withLocation(err error) error {
	list, ok := rim.AsRegistryErrors(err)
	if !ok {
		return err
	}
	for _, e := range list {
		if e.Location == "" {
			e.Location = hl7.URNOID(r.opts.HomeCommunityID)
		}
	}
	return list
}

// refuseAll is the gate of a registry built without one.
type refuseAll struct{}

func (refuseAll) Authenticate(context.Context, access.Credentials) (*access.Caller, error) {
	return nil, errors.New("registry: no access gate configured")
}

func (refuseAll) PatientHidden(context.Context, *access.Caller, string) (bool, error) {
	return true, errors.New("registry: no access gate configured")
}

func (refuseAll) Visible(context.Context, *access.Caller, []*rim.DocumentEntry) ([]*rim.DocumentEntry, error) {
	return nil, errors.New("registry: no access gate configured")
}
