package rim

// Identification and classification scheme UUIDs of XDS metadata (ITI TF-3
// 4.2.5). One table, tested against the reference values, because public
// implementations are known to carry typos of these.
const (
	// DocumentEntry object types.
	ObjectTypeStable   = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
	ObjectTypeOnDemand = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"

	// DocumentEntry external identifiers.
	DocumentEntryPatientID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
	DocumentEntryUniqueID  = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"

	// DocumentEntry classifications.
	DocumentEntryClassCode                  = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
	DocumentEntryTypeCode                   = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
	DocumentEntryFormatCode                 = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
	DocumentEntryHealthcareFacilityTypeCode = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
	DocumentEntryPracticeSettingCode        = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
	DocumentEntryConfidentialityCode        = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
	DocumentEntryEventCodeList              = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
	DocumentEntryAuthor                     = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
	DocumentEntryLimitedMetadata            = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"

	// SubmissionSet.
	SubmissionSetClassificationNode = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
	SubmissionSetPatientID          = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
	SubmissionSetUniqueID           = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
	SubmissionSetSourceID           = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
	SubmissionSetContentTypeCode    = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
	SubmissionSetAuthor             = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
	SubmissionSetLimitedMetadata    = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707"

	// Folder.
	FolderClassificationNode = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
	FolderPatientID          = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
	FolderUniqueID           = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"
	FolderCodeList           = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
	FolderLimitedMetadata    = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03"

	// AssociationDocumentation classifies an association (e.g. SubmissionSetStatus).
	AssociationDocumentation = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3"

	// ebRIM object types used on RegistryPackage, Classification, ExternalIdentifier, Association.
	ObjectTypeRegistryPackage    = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
	ObjectTypeClassification     = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
	ObjectTypeExternalIdentifier = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"
	ObjectTypeAssociation        = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
)

// Availability status of a registry object.
const (
	StatusApproved   = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
	StatusDeprecated = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
	StatusSubmitted  = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted"
)

// Association types.
const (
	AssocHasMember  = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
	AssocRPLC       = "urn:ihe:iti:2007:AssociationType:RPLC"
	AssocAPND       = "urn:ihe:iti:2007:AssociationType:APND"
	AssocXFRM       = "urn:ihe:iti:2007:AssociationType:XFRM"
	AssocXFRMRPLC   = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC"
	AssocSigns      = "urn:ihe:iti:2007:AssociationType:signs"
	AssocIsSnapshot = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf"
)

// Response status and error severity (ebRS 3.0, IHE).
const (
	ResponseSuccess        = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
	ResponseFailure        = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
	ResponsePartialSuccess = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
	SeverityError          = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
	SeverityWarning        = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"
)

// XML namespaces of ebRIM, ebRS and XDS.b.
const (
	NSRIM   = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
	NSRS    = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
	NSQuery = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
	NSLCM   = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
	NSXDSB  = "urn:ihe:iti:xds-b:2007"
)
