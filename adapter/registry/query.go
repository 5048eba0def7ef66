package registry

import (
	"context"

	"kjdd/adapter/access"
	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// Query answers a stored query (ITI-18 or, with cred.Transaction ITI-38,
// ITI-38). The result contains only what the caller may see.
func (r *Registry) Query(ctx context.Context, cred access.Credentials, q *query.StoredQuery) (*rim.QueryResult, error) {
	cred.PatientID = q.PatientID()
	caller, err := r.gate.Authenticate(ctx, cred)
	if err != nil {
		return nil, err
	}
	xca := cred.Transaction == access.ITI38
	if xca {
		if err := r.checkQueryHome(q); err != nil {
			return nil, r.withLocation(err)
		}
	}
	res, err := query.Execute(ctx, q, r.source(caller), r.opts.MaxResults)
	if xca {
		err = r.withLocation(err)
	}
	return res, err
}

// checkQueryHome applies the XCA rules for AdhocQuery@home: id-based
// queries must name the community (the ids are only unique within it), and
// a named community must be this one.
func (r *Registry) checkQueryHome(q *query.StoredQuery) error {
	if q.Home == "" {
		if q.IDBased() {
			return rim.NewError(rim.XDSMissingHomeCommunityID, "AdhocQuery home is required for "+q.Name)
		}
		return nil
	}
	if !r.ownCommunity(q.Home) {
		return rim.NewError(rim.XDSUnknownCommunity, "AdhocQuery home is not served by this gateway")
	}
	return nil
}
