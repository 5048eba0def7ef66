// Package hl7 holds the identifiers and HL7 v2 datatypes that XDS metadata
// carries, with no dependency on the metadata model: CX patient ids
// (ParseCX, FormatCX), OIDs (ValidOID, NormalizeOID, URNOID), the datatype
// checks of ITI TF-3 (ValidCX, ValidXCN, ValidXON, ValidXTN, ValidDTM and
// the *Problem functions that say why a value fails), the Norwegian
// identity and organisation numbers (ValidFNR, ValidDNumber, ValidFHNumber,
// ValidOrgNumber), urn:uuid ids and RedactNationalIDs.
//
// It is the bottom layer of package xds's subpackages and imports none of
// them.
package hl7
