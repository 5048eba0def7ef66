package xds

import (
	"slices"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
)

// homeQuery is an ITI-38 stored query and the objects it finds (as
// LeafClass; as ObjectRef each is an ObjectRef with the same id).
type homeQuery struct {
	name    string
	queryID string
	// idBased queries name registry objects by id, which are unique only
	// within a community: AdhocQuery@home is required (ITI TF-2 3.38.4.1.2).
	idBased bool
	params  func(g *gateway) []param
	objects func(g *gateway) []object
}

// documentsOf are the ExtrinsicObjects of the named documents.
func documentsOf(g *gateway, names ...string) []object {
	var out []object
	for _, n := range names {
		out = append(out, object{"ExtrinsicObject", g.docs[n].entryUUID})
	}
	return out
}

// epjNames are the documents registered by ITI-42, in one SubmissionSet.
var epjNames = []string{"letter", "note", "large", "busy", "absent", "offline"}

var homeQueries = []homeQuery{
	{
		name: "FindDocuments", queryID: queryFindDocuments,
		params: func(*gateway) []param { return findDocuments(patientA) },
		objects: func(g *gateway) []object {
			return documentsOf(g, append(slices.Clone(epjNames), "stored")...)
		},
	},
	{
		name: "GetDocuments by uniqueId", queryID: queryGetDocuments, idBased: true,
		params: func(g *gateway) []param {
			return []param{{"$XDSDocumentEntryUniqueId", []string{list(g.docs["letter"].uniqueID, g.docs["stored"].uniqueID)}}}
		},
		objects: func(g *gateway) []object { return documentsOf(g, "letter", "stored") },
	},
	{
		name: "GetDocuments by entryUUID", queryID: queryGetDocuments, idBased: true,
		params: func(g *gateway) []param {
			return []param{{"$XDSDocumentEntryEntryUUID", []string{list(g.docs["large"].entryUUID, g.docs["offline"].entryUUID)}}}
		},
		objects: func(g *gateway) []object { return documentsOf(g, "large", "offline") },
	},
	{
		name: "GetSubmissionSetAndContents", queryID: queryGetSubmissionSetAndContents, idBased: true,
		params: func(g *gateway) []param {
			return []param{{"$XDSSubmissionSetUniqueId", []string{one(g.epjSet.uniqueID)}}}
		},
		objects: func(g *gateway) []object {
			out := append(documentsOf(g, epjNames...), object{"RegistryPackage", g.epjSet.entryUUID})
			for _, n := range epjNames {
				out = append(out, object{"Association", g.docs[n].memberUUID})
			}
			return out
		},
	},
	{
		name: "GetAssociations", queryID: queryGetAssociations, idBased: true,
		params: func(g *gateway) []param {
			return []param{{"$uuid", []string{list(g.docs["note"].entryUUID)}}}
		},
		objects: func(g *gateway) []object { return []object{{"Association", g.docs["note"].memberUUID}} },
	},
}

// TestCrossGatewayQueryHome runs ITI-38 stored queries with every form of
// AdhocQuery@home: this community as urn:oid: or as a bare OID is
// answered, and every object of the answer (ExtrinsicObject,
// RegistryPackage, Association, ObjectRef) carries
// home="urn:oid:<community>", for LeafClass and ObjectRef; no home is
// XDSMissingHomeCommunityId for id-based queries and fine for
// FindDocuments; another community is XDSUnknownCommunity.
func TestCrossGatewayQueryHome(t *testing.T) {
	g := newGateway(t)
	homes := []struct {
		name, home string
	}{
		{"home urn:oid", urnOID(home)},
		{"home bare OID", home},
		{"no home", ""},
		{"home of another community", urnOID(foreignCommunity)},
		{"home of another community as a bare OID", foreignCommunity},
	}
	for _, q := range homeQueries {
		for _, h := range homes {
			for _, rt := range []string{leafClass, objectRef} {
				t.Run(q.name+" "+rt+" "+h.name, func(t *testing.T) {
					resp := send(t, g.srv, iti38, adhocQuery(q.queryID, rt, h.home, q.params(g)))
					var wantErr string
					switch {
					case strings.HasSuffix(h.home, foreignCommunity):
						wantErr = errUnknownCommunity
					case h.home == "" && q.idBased:
						wantErr = errMissingCommunity
					}
					if wantErr != "" {
						if resp.Status() != harness.StatusFailure {
							t.Errorf("status %q, want %q", resp.Status(), harness.StatusFailure)
						}
						checkErrors(t, iti38, resp, []string{wantErr})
						if n := len(resp.Objects()); n != 0 {
							t.Errorf("answer has %d objects, want none", n)
						}
						return
					}
					if resp.Status() != harness.StatusSuccess {
						t.Errorf("status %q, want %q (errors %+v)", resp.Status(), harness.StatusSuccess, resp.RegistryErrors())
					}
					checkErrors(t, iti38, resp, nil)
					want := q.objects(g)
					if rt == objectRef {
						for i := range want {
							want[i].kind = "ObjectRef"
						}
					}
					checkObjects(t, resp, want)
					for _, e := range resp.Objects() {
						if got := e.SelectAttrValue("home", ""); got != urnOID(home) {
							t.Errorf("%s %s has home %q, want %q", e.Tag, e.SelectAttrValue("id", ""), got, urnOID(home))
						}
					}
				})
			}
		}
	}
}
