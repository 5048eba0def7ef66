package rim

import (
	"errors"
	"strings"
)

// ErrorCode is an IHE registry error code (ITI TF-3 Table 4.2.4.1-2).
type ErrorCode string

// The error codes kjdd returns. Each failure gets the most specific one.
const (
	XDSRegistryError                      ErrorCode = "XDSRegistryError"
	XDSRepositoryError                    ErrorCode = "XDSRepositoryError"
	XDSRegistryMetadataError              ErrorCode = "XDSRegistryMetadataError"
	XDSRepositoryMetadataError            ErrorCode = "XDSRepositoryMetadataError"
	XDSUnknownPatientID                   ErrorCode = "XDSUnknownPatientId"
	XDSPatientIDDoesNotMatch              ErrorCode = "XDSPatientIdDoesNotMatch"
	XDSDuplicateUniqueIDInRegistry        ErrorCode = "XDSDuplicateUniqueIdInRegistry"
	XDSNonIdenticalHash                   ErrorCode = "XDSNonIdenticalHash"
	XDSNonIdenticalSize                   ErrorCode = "XDSNonIdenticalSize"
	XDSRegistryDuplicateUniqueIDInMessage ErrorCode = "XDSRegistryDuplicateUniqueIdInMessage"
	XDSRepositoryDuplicateUniqueIDInMsg   ErrorCode = "XDSRepositoryDuplicateUniqueIdInMessage"
	XDSMissingDocument                    ErrorCode = "XDSMissingDocument"
	XDSMissingDocumentMetadata            ErrorCode = "XDSMissingDocumentMetadata"
	XDSRegistryDeprecatedDocumentError    ErrorCode = "XDSRegistryDeprecatedDocumentError"
	XDSRegistryNotAvailable               ErrorCode = "XDSRegistryNotAvailable"
	XDSExtraMetadataNotSaved              ErrorCode = "XDSExtraMetadataNotSaved"
	XDSUnknownStoredQuery                 ErrorCode = "XDSUnknownStoredQuery"
	XDSStoredQueryMissingParam            ErrorCode = "XDSStoredQueryMissingParam"
	XDSStoredQueryParamNumber             ErrorCode = "XDSStoredQueryParamNumber"
	XDSTooManyResults                     ErrorCode = "XDSTooManyResults"
	XDSResultNotSinglePatient             ErrorCode = "XDSResultNotSinglePatient"
	XDSDocumentUniqueIDError              ErrorCode = "XDSDocumentUniqueIdError"
	XDSUnknownRepositoryID                ErrorCode = "XDSUnknownRepositoryId"
	XDSMissingHomeCommunityID             ErrorCode = "XDSMissingHomeCommunityId"
	XDSUnknownCommunity                   ErrorCode = "XDSUnknownCommunity"
	XDSUnavailableCommunity               ErrorCode = "XDSUnavailableCommunity"
	XDSRegistryBusy                       ErrorCode = "XDSRegistryBusy"
	XDSRepositoryBusy                     ErrorCode = "XDSRepositoryBusy"
	XDSRegistryOutOfResources             ErrorCode = "XDSRegistryOutOfResources"
	XDSRepositoryOutOfResources           ErrorCode = "XDSRepositoryOutOfResources"
)

// RegistryError is one entry of an ebRS RegistryErrorList.
type RegistryError struct {
	Code     ErrorCode
	Severity string // SeverityError (default when empty) or SeverityWarning
	Context  string // codeContext: human-readable, never a national id or a name
	Location string // location: for a responding gateway its homeCommunityId
}

// Error implements error.
func (e *RegistryError) Error() string {
	if e.Context == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Context
}

// IsWarning reports whether the entry is a warning rather than an error.
func (e *RegistryError) IsWarning() bool { return e.Severity == SeverityWarning }

// NewError returns an error-severity RegistryError.
func NewError(code ErrorCode, context string) *RegistryError {
	return &RegistryError{Code: code, Severity: SeverityError, Context: context}
}

// NewWarning returns a warning-severity RegistryError.
func NewWarning(code ErrorCode, context string) *RegistryError {
	return &RegistryError{Code: code, Severity: SeverityWarning, Context: context}
}

// RegistryErrors is a list of registry errors that is itself an error: it is
// what validation returns when it finds several problems at once. It renders
// as a RegistryErrorList.
type RegistryErrors []*RegistryError

// Error implements error.
func (l RegistryErrors) Error() string {
	parts := make([]string, 0, len(l))
	for _, e := range l {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// HasErrors reports whether any entry has error severity.
func (l RegistryErrors) HasErrors() bool {
	for _, e := range l {
		if !e.IsWarning() {
			return true
		}
	}
	return false
}

// AsRegistryErrors extracts registry errors from err: a *RegistryError or
// RegistryErrors anywhere in its chain. ok is false when err carries none.
func AsRegistryErrors(err error) (RegistryErrors, bool) {
	var list RegistryErrors
	if errors.As(err, &list) {
		return list, true
	}
	var one *RegistryError
	if errors.As(err, &one) {
		return RegistryErrors{one}, true
	}
	return nil, false
}
