package corpus

// kind classifies a corpus file by its name.
type kind string

const (
	kindRequest  kind = "request"
	kindResponse kind = "response"
	kindATNA     kind = "atna"
)

// Skip reasons for files that are not requests.
const (
	skipResponse = "response sample, covered by xds parser tests"
	skipATNA     = "ATNA audit record sample, not a message kjdd receives; covered by audit tests"
)

// Server profiles (KJDD_METADATA_PROFILE). Norwegian (pjd) samples run
// under norway; all others under ihe, because their metadata is not
// Norwegian (no fødselsnummer, no Volven codes) and would be refused by
// the Norwegian profile for that reason alone.
const (
	norway = "norway"
	ihe    = "ihe"
)

// expect is what kjdd must answer.
type expect struct {
	// fault is the expected SOAP Fault: "Sender", "VersionMismatch", or a
	// subcode's local name such as "ActionNotSupported". Empty: no Fault.
	fault string
	// status is the expected registry status (Success, PartialSuccess,
	// Failure); "any" accepts every status of a schema-valid response.
	status string
	// codes must all appear among the RegistryErrors; anyOf at least one.
	codes, anyOf []string
	// counts, when set, are the exact object counts of a query response.
	counts *counts
	// home requires home="urn:oid:<our community>" on every object (ITI-38).
	home bool
	// docs is the number of documents a retrieve returns (MTOM); -1 = not checked.
	docs int
}

// counts mirror harness.Contents; -1 leaves a kind unchecked.
type counts struct{ docs, sets, folders, assocs, refs int }

// sample is one corpus file and what to do with it.
type sample struct {
	file    string
	kind    kind
	skip    string
	profile string
	// nist names the testkit section and query file the sample was copied
	// from; its test plan gives the placeholders and expectations (only the
	// placeholders with nistVarsOnly).
	nist, nistFile string
	nistVarsOnly   bool
	// vars resolves placeholders of samples whose plan is not in the kit.
	vars func(r *replay) map[string]string
	want expect
	// or is an alternative answer the standards allow equally.
	or *expect
	// why explains the expectation (for -INVALID / -NEGATIVE: the reason
	// the corpus flags the file, SOURCES.md).
	why string
}

// Norwegian seed data registered before the pjd samples run (patients and
// document uniqueIds as the PJD samples use them).
const (
	pjdPatientKJ        = "17855599120" // iti18 pjd, iti38 kjernejournal/acp/async
	pjdPatientHN        = "27888498775" // iti38 helsenord
	pjdPatientRetrieve  = "13116900216" // owner of the document the iti39 pjd samples retrieve (see seedNorway)
	pjdRetrieveDocument = "13fa8361-dd8f-43fd-a33c-93f3237306c3"
	pjdMTOMPatient      = "12119000465"                          // iti39 MTOM capture
	pjdMTOMDocument     = "4955f740-0be2-49f3-9e67-039f0a00ad6c" // the document it retrieves
)

// samples lists every file of the corpus, exactly once.
var samples = []sample{
	// ATNA records.
	{file: "atna-iti18-audit-ehealthsuisse-INVALID.xml", kind: kindATNA, skip: skipATNA},
	{file: "atna-iti41-audit-ehealthsuisse-INVALID.xml", kind: kindATNA, skip: skipATNA},
	{file: "atna-iti43-audit-ehealthsuisse-INVALID.xml", kind: kindATNA, skip: skipATNA},

	// Responses.
	{file: "iti18-response-FindDocuments-LeafClass-ihe-official-soap.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti18-response-LeafClass-ehealthsuisse-projectathon.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti38-response-ihe-official-INVALID.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti39-response-ihe-official.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti41-response-ehealthsuisse-mtom-http.txt", kind: kindResponse, skip: skipResponse},
	{file: "iti41-response-ihe-official-soap.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti42-response-ihe-official-soap.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti43-response-ehealthsuisse-xop-include.xml", kind: kindResponse, skip: skipResponse},
	{file: "iti43-response-ihe-official-soap.xml", kind: kindResponse, skip: skipResponse},

	// ITI-18 Registry Stored Query.
	{file: "iti18-FindDocuments-ehealthsuisse-projectathon-saml.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Success", counts: &counts{refs: 1}, docs: -1},
		why:  "the test registers one document for the sample's patient first"},
	{file: "iti18-FindDocuments-ihe-official-soap.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "any", docs: -1},
		why: "IHE's own example is sloppy (AdhocQuery id padded with spaces, unquoted patient id, a ResponseStatusType " +
			"as document status, typographic quotes): a registry may answer it or refuse a parameter, but must answer with a registry response, not a Fault"},
	{file: "iti18-FindDocuments-ipf-sqlinjection-NEGATIVE.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryError"}, counts: &counts{}, docs: -1},
		why: "NEGATIVE: the patient id value is an SQL injection with an unterminated quote; ITI-18 has no code more " +
			"specific than XDSRegistryError for a malformed parameter value, and nothing may be returned"},
	{file: "iti18-FindDocuments-nist-all-params-INVALID-template.xml", kind: kindRequest, profile: ihe,
		vars: func(r *replay) map[string]string { return map[string]string{"$patient_id$": r.env.Patient("12346")} },
		want: expect{status: "Failure", codes: []string{"XDSRegistryError"}, counts: &counts{}, docs: -1},
		why:  "INVALID: returnType='$rt0$' is not LeafClass or ObjectRef (and the other parameters are unfilled placeholders)"},
	{file: "iti18-FindDocuments-nist-classcode-practicesetting.xml", kind: kindRequest, profile: ihe, nist: "11897/classcode_practicesetting", nistFile: "query.xml"},
	{file: "iti18-FindDocuments-nist-creationtime-between.xml", kind: kindRequest, profile: ihe, nist: "11897/creationtime_between", nistFile: "query.xml"},
	{file: "iti18-FindDocuments-nist-creationtime-practicesetting.xml", kind: kindRequest, profile: ihe, nist: "11897/creationtime_practicesetting", nistFile: "query.xml"},
	{file: "iti18-FindDocuments-nist-eventcode-and.xml", kind: kindRequest, profile: ihe, nist: "11897/eventcode_multi_select", nistFile: "query.xml"},
	{file: "iti18-FindDocuments-pjd-no-confidentiality.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{docs: 2}, docs: -1},
		why:  "both seeded documents carry an HL7 confidentialityCode the query lists (several values in one slot = OR)"},
	{file: "iti18-FindDocuments-pjd-no-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{docs: 2}, docs: -1}},
	{file: "iti18-FindDocumentsByReferenceId-nist.xml", kind: kindRequest, profile: ihe, nist: "11897/refid", nistFile: "query.xml"},
	{file: "iti18-FindDocumentsForMultiplePatients-nist.xml", kind: kindRequest, profile: ihe,
		vars: func(r *replay) map[string]string {
			return map[string]string{"$patient_id1$": r.env.Patient("12346"), "$patient_id2$": r.env.Patient("12374")}
		},
		want: expect{status: "Failure", codes: []string{"XDSUnknownStoredQuery"}, counts: &counts{}, docs: -1},
		why:  "FindDocumentsForMultiplePatients belongs to the MPQ profile (ITI-51), which kjdd does not implement; an ITI-18 registry answers XDSUnknownStoredQuery"},
	{file: "iti18-FindFolders-nist-updatetime.xml", kind: kindRequest, profile: ihe, nist: "11899/in_updatetime", nistFile: "query2.xml"},
	{file: "iti18-FindSubmissionSets-nist-submissiontime.xml", kind: kindRequest, profile: ihe, nist: "11898/submissiontime_in", nistFile: "query.xml"},
	{file: "iti18-GetAll-nist.xml", kind: kindRequest, profile: ihe, nist: "15803/all", nistFile: "query.xml"},
	{file: "iti18-GetAssociations-nist.xml", kind: kindRequest, profile: ihe, nist: "11903/multiple_assoc_from_ss", nistFile: "query3.xml"},
	{file: "iti18-GetAssociations-pjd-no-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{}, docs: -1},
		why:  "the $uuid (without urn:uuid:) names nothing in this registry; an id-based query that finds nothing succeeds empty"},
	{file: "iti18-GetDocuments-nist-uniqueid.xml", kind: kindRequest, profile: ihe, nist: "11901/uniqueid2", nistFile: "query2.xml"},
	{file: "iti18-GetDocuments-nist-uuid-multivalue.xml", kind: kindRequest, profile: ihe, nist: "11901/uuid_multiple_slot_values", nistFile: "query5.xml"},
	{file: "iti18-GetDocumentsAndAssociations-nist.xml", kind: kindRequest, profile: ihe, nist: "11904/uuids", nistFile: "query4.xml"},
	{file: "iti18-GetFolderAndContents-nist-confcode.xml", kind: kindRequest, profile: ihe, nist: "11907/both_conf_code", nistFile: "query4.xml"},
	{file: "iti18-GetFolders-nist-uuid.xml", kind: kindRequest, profile: ihe, nist: "11902/uuid", nistFile: "query1.xml"},
	{file: "iti18-GetFoldersForDocument-nist.xml", kind: kindRequest, profile: ihe, nist: "11908/uniqueid", nistFile: "query1.xml"},
	{file: "iti18-GetRelatedDocuments-nist.xml", kind: kindRequest, profile: ihe, nist: "11909/uniqueid", nistFile: "query4.xml"},
	{file: "iti18-GetSubmissionSetAndContents-nist-formatcode.xml", kind: kindRequest, profile: ihe, nist: "11906/format_code", nistFile: "query4.xml", nistVarsOnly: true,
		want: expect{status: "Success", counts: &counts{docs: 0, sets: 1, folders: 1, assocs: -1, refs: 0}, docs: -1},
		why: "the sample is 11906/format_code/query.xml, which the plan does not run (it runs query4.xml, with the " +
			"same $uniqueid$); its formatCode urn:ihe:qrph:hw:2013 matches none of the submission set's documents, " +
			"so the set and its folder come back without documents"},
	{file: "iti18-GetSubmissionSets-nist.xml", kind: kindRequest, profile: ihe, nist: "11905/basic", nistFile: "query2.xml"},

	// ITI-38 Cross Gateway Query.
	{file: "iti38-FindDocuments-ihe-official-INVALID.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryError"}, docs: -1},
		why:  "INVALID: the AdhocQueryRequest has neither the required ResponseOption nor an AdhocQuery"},
	{file: "iti38-FindDocuments-nist-xgq-objectref.xml", kind: kindRequest, profile: ihe, nist: "12309/finddocs", nistFile: "query.xml"},
	{file: "iti38-FindDocuments-pjd-acp-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{docs: 2}, home: true, docs: -1}},
	{file: "iti38-FindDocuments-pjd-async.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{docs: 2}, home: true, docs: -1},
		or:   &expect{fault: "OnlyAnonymousAddressSupported", docs: -1},
		why: "wsa:ReplyTo names a non-anonymous address; kjdd has no asynchronous XCA option, so it either answers on the " +
			"HTTP response or refuses with WS-Addressing's OnlyAnonymousAddressSupported"},
	{file: "iti38-FindDocuments-pjd-helsenord-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{docs: 1}, home: true, docs: -1}},
	{file: "iti38-FindDocuments-pjd-kjernejournal-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", counts: &counts{docs: 2}, home: true, docs: -1},
		why:  "no home attribute on a patient-based query is fine"},

	// ITI-39 Cross Gateway Retrieve.
	{file: "iti39-request-ihe-official.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSUnknownCommunity"}, docs: 0},
		why:  "HomeCommunityId urn:oid:1.2.3.4 is not this gateway's community"},
	{file: "iti39-request-nist-missing-home-NEGATIVE.xml", kind: kindRequest, profile: ihe, nist: "12312/missing_home", nistFile: "query.xml",
		why: "NEGATIVE: no HomeCommunityId -> XDSMissingHomeCommunityId (NIST 12312)"},
	{file: "iti39-request-pjd-helsenord-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", docs: 1}},
	{file: "iti39-request-pjd-kjernejournal-saml.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Success", docs: 1}, why: "HomeCommunityId as a bare OID is accepted"},
	{file: "iti39-request-pjd-mtom-multipart.txt", kind: kindRequest, profile: norway,
		want: expect{status: "Success", docs: 1},
		why: "NHN's gateway sends ITI-39 as MTOM without attachments; the capture declares UTF-8 but carries an " +
			"ISO-8859-1 byte in a SAML attribute value, which kjdd reads as Latin-1 (xds.md §6.5) instead of refusing"},

	// ITI-41 Provide and Register.
	{file: "iti41-request-ehealthsuisse-mtom-http-INCONSISTENT.txt", kind: kindRequest, profile: ihe,
		want: expect{fault: "Sender", docs: -1},
		why:  "INCONSISTENT: the Content-Type's boundary is not the boundary the body uses (broken MTOM)"},
	{file: "iti41-request-ihe-official-soap.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryMetadataError"}, docs: -1},
		why: "IHE's example has sourceId 3670984664, which is not an OID, and associationType \"HasMember\", " +
			"the ebRIM 2.1 short form of urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"},
	{file: "iti41-request-nist-mtom-xop.txt", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryMetadataError"}, docs: -1},
		why: "the MTOM/XOP message itself is read (the document is an MTOM part referenced by xop:Include), but " +
			"NIST's SubmissionSet uniqueId 1.42.… is not an OID: under first arc 1 the second arc is at most 39 (X.660)"},
	{file: "iti41-request-nist-reposacceptance.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSMissingDocument"}, docs: -1},
		why:  "the testkit attaches the document at run time; sent as stored, the DocumentEntry has no Document"},
	{file: "iti41-request-pjd-no.xml", kind: kindRequest, profile: norway,
		want: expect{status: "Failure", anyOf: []string{"XDSPatientIdDoesNotMatch", "XDSRegistryMetadataError", "XDSRepositoryMetadataError"}, docs: -1},
		why: "NHN's test submission is inconsistent: the SubmissionSet's patient differs from the DocumentEntry's, its " +
			"RegistryPackage is not classified as a SubmissionSet, and classifications point at an id that does not exist"},

	// ITI-42 Register.
	{file: "iti42-request-ihe-official-soap.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryMetadataError"}, docs: -1},
		why: "IHE's example lacks hash, size and repositoryUniqueId, which ITI-42 requires of every DocumentEntry " +
			"(ITI TF-3 Table 4.3.1-3); its sourceId and associationType are wrong as in its ITI-41 twin"},
	{file: "iti42-request-ipf-1.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryMetadataError"}, docs: -1},
		why:  "IPF's fixture lacks hash, size and repositoryUniqueId, which ITI-42 requires"},
	{file: "iti42-request-ipf-2.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryMetadataError"}, docs: -1},
		why:  "IPF's fixture lacks hash, size and repositoryUniqueId, which ITI-42 requires"},
	{file: "iti42-request-ipf-extra-metadata.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSRegistryMetadataError"}, docs: -1},
		why:  "besides its extra slots, IPF's fixture lacks hash, size and repositoryUniqueId, which ITI-42 requires"},
	{file: "iti42-request-pjd-nonstandard-wrapper-INVALID.xml", kind: kindRequest, profile: norway,
		want: expect{fault: "Sender", docs: -1},
		why:  "INVALID: the body root is xds-b:RegisterDocumentSetRequest, which does not exist; ITI-42's body is lcm:SubmitObjectsRequest"},

	// ITI-43 Retrieve Document Set.
	{file: "iti43-request-ehealthsuisse-projectathon-saml.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", anyOf: []string{"XDSUnknownRepositoryId", "XDSUnknownCommunity"}, docs: 0},
		why:  "repository 1.3.6.1.4.1.21367.2017.2.3.54 of community 1.3.6.1.4.1.21367.2017.2.6.19 is not served here"},
	{file: "iti43-request-ihe-official-soap.xml", kind: kindRequest, profile: ihe,
		want: expect{status: "Failure", codes: []string{"XDSUnknownRepositoryId"}, docs: 0},
		why:  "IHE's example names repository \"1.3.6.1.4...1000\", which is not served here"},
	{file: "iti43-request-nist-two-docs.xml", kind: kindRequest, profile: ihe,
		vars: func(r *replay) map[string]string {
			sec := r.section("12318/init")
			return map[string]string{
				"$docuid1$": sec.Assigned.UIDs["Document01"], "$docuid2$": sec.Assigned.UIDs["Document02"],
				"$repuid$": repositoryUniqueID,
			}
		},
		want: expect{status: "Success", docs: 2},
		why:  "NIST 12021's retrieve of two documents, here the two that NIST 12318 provided (ITI-41) to kjdd's repository"},
	{file: "iti43-request-pjd-no-saml.xml", kind: kindRequest, profile: norway,
		want: expect{fault: "ActionNotSupported", docs: -1},
		why:  "the capture's wsa:Action is RegistryStoredQuery, which the repository endpoint does not serve"},
}
