package access

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"kjdd/consent"
	"kjdd/xds/rim"
)

// InputsResolver gives a patient's sperring inputs; consent.Resolver is
// the one used (cache first, then the store, never failing open).
type InputsResolver interface {
	Inputs(ctx context.Context, patient string) (consent.Inputs, error)
}

// ErrNoPrincipal is returned by Sperring when the caller was not
// authenticated as anyone: sperring cannot be decided without knowing who
// asks, so nothing is shown.
var ErrNoPrincipal = errors.New("access: no authenticated principal; sperring cannot be decided")

// unkeyedPatient is the key under which entries whose patient id is not a
// fødselsnummer or D-number are decided. Sperring records are keyed by
// national identity numbers only (the API refuses anything else), so no
// record can name such a patient: their entries are decided against empty
// inputs, on their own metadata (NORS). The key is never looked up, and no
// real person has it (day 00 of month 00).
const unkeyedPatient = "00000000000"

// Sperring is the Policy that applies consent's one sperring decision to
// every entry a read path is about to use. Entries are grouped by patient;
// each patient's inputs are resolved once per call and decided with the
// requester taken from the caller's Principal (HPR number, purpose of use).
// Shown entries pass as they are, obfuscated ones as their masked copies,
// hidden ones not at all.
//
// It fails closed: no Principal, or inputs that cannot be resolved (cache
// and store both unavailable), deny the whole call with an error. An entry
// whose patient id is not a fødselsnummer or D-number (an FH-number, or
// a foreign id under the IHE metadata profile) cannot be named by any
// record and is decided on its own confidentiality codes alone.
//
// Each call's outcome is added to the DecisionRecorder in ctx, if any, for
// the audit.
type Sperring struct {
	Resolver InputsResolver
	Policy   consent.Policy
	// Lineage extends a document record to the document's successors;
	// nil blocks the named documents only.
	Lineage Lineage
}

// Visible implements Policy.
func (s Sperring) Visible(ctx context.Context, c *Caller, entries []*rim.DocumentEntry) ([]*rim.DocumentEntry, error) {
	rec := RecorderFrom(ctx)
	if c == nil || c.Principal == nil {
		rec.failed()
		return nil, ErrNoPrincipal
	}
	if s.Resolver == nil {
		rec.failed()
		return nil, errors.New("access: sperring has no inputs resolver")
	}
	if len(entries) == 0 {
		return entries, nil
	}
	req := consent.Requester{HPRNumber: c.Principal.HPRNumber, PurposeOfUse: c.Principal.Purpose.Code}
	if p, ok := onePatient(entries); ok {
		// What a query nearly always asks: one identified patient's
		// entries, decided as one group (the loop below, without the
		// grouping).
		d, err := s.decide(ctx, req, p, entries)
		if err != nil {
			rec.failed()
			return nil, err
		}
		rec.add(d)
		return d.Visible(), nil
	}

	// The zero Item hides: an entry nobody decided on is not shown.
	items := make([]consent.Item, len(entries))
	var patients []string
	groups := map[string][]int{}
	// A query's entries are one patient's: normalise each distinct id once.
	var lastRaw, p string
	normalised := false
	for i, e := range entries {
		items[i].Entry = e
		if e == nil {
			items[i].Reason = consent.ReasonInvalidEntry
			continue
		}
		if !normalised || e.PatientID != lastRaw {
			var err error
			// Unkeyed entries form the group "", which no identity
			// number can collide with.
			if p, err = consent.NormalizePatient(e.PatientID); err != nil {
				p = ""
			}
			lastRaw, normalised = e.PatientID, true
		}
		if _, ok := groups[p]; !ok {
			patients = append(patients, p)
		}
		groups[p] = append(groups[p], i)
	}
	var flags consent.Decision
	for _, p := range patients {
		idx := groups[p]
		group := make([]*rim.DocumentEntry, len(idx))
		for j, i := range idx {
			group[j] = entries[i]
		}
		d, err := s.decide(ctx, req, p, group)
		if err != nil {
			rec.failed()
			return nil, err
		}
		for j, i := range idx {
			it := d.Items[j]
			if p == "" {
				// Back from the decision's copies to the registry's
				// entries and their patient ids.
				it.Entry = entries[i]
				if it.Masked != nil {
					it.Masked.PatientID = entries[i].PatientID
				}
			}
			items[i] = it
		}
		flags.PatientBlocked = flags.PatientBlocked || d.PatientBlocked
		flags.PractitionerBlocked = flags.PractitionerBlocked || d.PractitionerBlocked
		flags.Overridden = flags.Overridden || d.Overridden
	}
	flags.Items = items
	rec.add(flags)
	return flags.Visible(), nil
}

// decide is the decision over one patient's entries: under the records of
// the identity number p, or, for the entries whose id names none (p ""),
// on their own codes. It has one item per entry, in order.
func (s Sperring) decide(ctx context.Context, req consent.Requester, p string, group []*rim.DocumentEntry) (consent.Decision, error) {
	var in consent.Inputs
	if p == "" {
		in, group = unkeyed(group)
	} else {
		var err error
		if in, err = s.Resolver.Inputs(ctx, p); err != nil {
			// The resolver's errors never carry the identity number.
			return consent.Decision{}, fmt.Errorf("access: sperring: %w", err)
		}
		if in, err = withSuccessors(ctx, s.Lineage, in); err != nil {
			return consent.Decision{}, fmt.Errorf("access: sperring: %w: document lineage: %w", consent.ErrUnavailable, err)
		}
	}
	d := s.Policy.Decide(req, in, group)
	if len(d.Items) != len(group) {
		return consent.Decision{}, errors.New("access: sperring decision does not match its entries")
	}
	return d, nil
}

// onePatient returns the normalised identity number of entries that all
// carry the same patient id, one a record can name; false for anything
// else (nil entries, several patients, ids without an identity number),
// which the grouping in Visible decides.
func onePatient(entries []*rim.DocumentEntry) (string, bool) {
	if entries[0] == nil {
		return "", false
	}
	raw := entries[0].PatientID
	for _, e := range entries[1:] {
		if e == nil || e.PatientID != raw {
			return "", false
		}
	}
	p, err := consent.NormalizePatient(raw)
	return p, err == nil && p != ""
}

// PatientHidden implements Policy: patient-level sperring, or a
// practitioner-level one naming the caller, hides the whole patient.
func (s Sperring) PatientHidden(ctx context.Context, c *Caller, patientID string) (bool, error) {
	if c == nil || c.Principal == nil {
		return true, ErrNoPrincipal
	}
	if s.Resolver == nil {
		return true, errors.New("access: sperring has no inputs resolver")
	}
	p, err := consent.NormalizePatient(patientID)
	if err != nil {
		// No record can name such a patient (see Visible).
		return false, nil
	}
	in, err := s.Resolver.Inputs(ctx, p)
	if err != nil {
		return true, fmt.Errorf("access: sperring: %w", err)
	}
	req := consent.Requester{HPRNumber: c.Principal.HPRNumber, PurposeOfUse: c.Principal.Purpose.Code}
	d := s.Policy.Decide(req, in, nil)
	return d.PatientBlocked || d.PractitionerBlocked, nil
}

var _ Policy = Sperring{}

// unkeyed prepares entries of patients sperring cannot key for the
// decision: copies under unkeyedPatient, with inputs that hold no record.
func unkeyed(entries []*rim.DocumentEntry) (consent.Inputs, []*rim.DocumentEntry) {
	copies := make([]*rim.DocumentEntry, len(entries))
	for i, e := range entries {
		c := *e
		c.PatientID = unkeyedPatient
		c.Revision = rim.Revision{} // a modified copy, not the stored version
		copies[i] = &c
	}
	return consent.Inputs{Patient: unkeyedPatient}, copies
}

// DecisionRecorder collects what the sperring decision did during one
// request: which documents were shown, hidden, obfuscated or shown by
// override, and whether the request was denied because sperring could not
// be decided. The audit reads it before anything leaves the process. It is
// safe for concurrent use; a nil recorder records nothing.
type DecisionRecorder struct {
	mu                  sync.Mutex
	order               []string
	outcomes            map[string]recorded
	overridden          bool
	patientBlocked      bool
	practitionerBlocked bool
	denied              bool
}

type recorded struct {
	outcome consent.Outcome
	reason  string
}

type recorderKey struct{}

// WithDecisionRecorder returns ctx carrying a new recorder, and the
// recorder. Every Sperring decision made under the returned context is
// added to it.
func WithDecisionRecorder(ctx context.Context) (context.Context, *DecisionRecorder) {
	r := &DecisionRecorder{outcomes: map[string]recorded{}}
	return context.WithValue(ctx, recorderKey{}, r), r
}

// RecorderFrom returns the recorder of ctx, or nil.
func RecorderFrom(ctx context.Context) *DecisionRecorder {
	r, _ := ctx.Value(recorderKey{}).(*DecisionRecorder)
	return r
}

func (r *DecisionRecorder) failed() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.denied = true
	r.mu.Unlock()
}

// add records one decision. A document decided more than once in a
// request (a query reads entries and their associations' ends) keeps its
// first outcome, unless a later one showed it by override: the override
// must reach the audit.
func (r *DecisionRecorder) add(d consent.Decision) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.overridden = r.overridden || d.Overridden
	r.patientBlocked = r.patientBlocked || d.PatientBlocked
	r.practitionerBlocked = r.practitionerBlocked || d.PractitionerBlocked
	for _, it := range d.Items {
		if it.Entry == nil {
			continue
		}
		id := it.Entry.UniqueID
		prev, seen := r.outcomes[id]
		if !seen {
			r.order = append(r.order, id)
		}
		if !seen || (it.Outcome == consent.OutcomeShowByOverride && prev.outcome != it.Outcome) {
			r.outcomes[id] = recorded{outcome: it.Outcome, reason: it.Reason}
		}
	}
}

// SperringDecision is what a DecisionRecorder collected. Documents are
// named by uniqueId, in the order they were first decided.
type SperringDecision struct {
	Shown      []string
	Hidden     []string
	Obfuscated []string
	// Overridden were shown although blocked at document level, because
	// the purpose of use overrides; Override is set with them and the
	// audit event must be flagged for review.
	Overridden []string
	Override   bool
	// PatientBlocked and PractitionerBlocked say that a patient-level or
	// practitioner-level sperring hid everything of a patient.
	PatientBlocked      bool
	PractitionerBlocked bool
	// Denied is set when sperring could not be decided (no principal,
	// inputs unavailable): the request was refused.
	Denied bool
	// Reasons gives, per uniqueId not plainly shown, why (consent's
	// reason).
	Reasons map[string]string
}

// Decision returns a copy of what was recorded so far.
func (r *DecisionRecorder) Decision() SperringDecision {
	if r == nil {
		return SperringDecision{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := SperringDecision{
		Override:            r.overridden,
		PatientBlocked:      r.patientBlocked,
		PractitionerBlocked: r.practitionerBlocked,
		Denied:              r.denied,
		Reasons:             map[string]string{},
	}
	for _, id := range r.order {
		o := r.outcomes[id]
		switch o.outcome {
		case consent.OutcomeShow:
			d.Shown = append(d.Shown, id)
		case consent.OutcomeShowByOverride:
			d.Overridden = append(d.Overridden, id)
		case consent.OutcomeObfuscate:
			d.Obfuscated = append(d.Obfuscated, id)
		default:
			d.Hidden = append(d.Hidden, id)
		}
		if o.reason != "" {
			d.Reasons[id] = o.reason
		}
	}
	return d
}
