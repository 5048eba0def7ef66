package access

import (
	"context"
	"errors"

	"kjdd/consent"
	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// Lineage finds a document's successors: the documents that replace it
// (RPLC, XFRM_RPLC), transform it (XFRM) or append to it (APND), directly
// or through others. A patient's block of a document covers them
// (README, Sperring): an addendum or a new version says what the blocked
// document said.
type Lineage interface {
	Successors(ctx context.Context, uniqueIDs []string) ([]string, error)
}

// lineageTypes are the associations whose source succeeds its target.
var lineageTypes = map[string]bool{
	rim.AssocRPLC: true, rim.AssocXFRM: true, rim.AssocXFRMRPLC: true, rim.AssocAPND: true,
}

// maxLineageDepth bounds the walk: real chains are a handful of versions.
const maxLineageDepth = 64

// SourceLineage walks the registry's associations (the unguarded Source:
// the successors of a hidden document must be found to be hidden).
type SourceLineage struct{ Source query.Source }

// Successors implements Lineage: the uniqueIds of every successor of the
// documents uniqueIDs name, whatever their status, without uniqueIDs
// themselves.
func (l SourceLineage) Successors(ctx context.Context, uniqueIDs []string) ([]string, error) {
	roots, err := l.Source.DocumentEntries(ctx, query.Lookup{UniqueIDs: uniqueIDs})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var frontier []string
	for _, d := range roots {
		if !seen[d.EntryUUID] {
			seen[d.EntryUUID] = true
			frontier = append(frontier, d.EntryUUID)
		}
	}
	var out []string
	for depth := 0; len(frontier) > 0; depth++ {
		if depth == maxLineageDepth {
			return nil, errors.New("access: document lineage deeper than the bound")
		}
		assocs, err := l.Source.AssociationsOf(ctx, frontier)
		if err != nil {
			return nil, err
		}
		targets := map[string]bool{}
		for _, id := range frontier {
			targets[id] = true
		}
		var next []string
		for _, a := range assocs {
			if lineageTypes[a.Type] && targets[a.Target] && !seen[a.Source] {
				seen[a.Source] = true
				next = append(next, a.Source)
			}
		}
		if len(next) == 0 {
			break
		}
		succ, err := l.Source.DocumentEntries(ctx, query.Lookup{EntryUUIDs: next})
		if err != nil {
			return nil, err
		}
		for _, d := range succ {
			out = append(out, d.UniqueID)
		}
		frontier = next
	}
	return out, nil
}

// withSuccessors returns in with a document record for every successor of
// the documents its document records name, each under the id of the
// record it derives from. in itself is not modified (it may be a shared
// cached copy).
func withSuccessors(ctx context.Context, l Lineage, in consent.Inputs) (consent.Inputs, error) {
	var blocked []string
	byUID := map[string]consent.Sperring{}
	for _, r := range in.Records {
		if r.Kind == consent.KindDocument {
			blocked = append(blocked, r.DocumentUniqueID)
			byUID[r.DocumentUniqueID] = r
		}
	}
	if l == nil || len(blocked) == 0 {
		return in, nil
	}
	out := in
	out.Records = append([]consent.Sperring(nil), in.Records...)
	for _, uid := range blocked {
		succ, err := l.Successors(ctx, []string{uid})
		if err != nil {
			return consent.Inputs{}, err
		}
		for _, s := range succ {
			if _, ok := byUID[s]; ok {
				continue
			}
			derived := byUID[uid]
			derived.DocumentUniqueID = s
			byUID[s] = derived
			out.Records = append(out.Records, derived)
		}
	}
	return out, nil
}
