package query

import (
	"slices"

	"kjdd/xds/rim"
)

// Matching of registry objects against stored-query parameters
// (ITI TF-2 3.18.4.1.2.3.7). Every predicate is true when its parameter was
// not given.

// matchFindDocuments reports whether de satisfies the FindDocuments and
// FindDocumentsByReferenceId filters of p.
func matchFindDocuments(de *rim.DocumentEntry, p *Params) bool {
	return de.PatientID == p.PatientID &&
		statusIn(de.Status, p.DocumentEntryStatuses) &&
		entryTypeIn(de.ObjectType, p.DocumentEntryTypes) &&
		codeIn(de.ClassCode, p.ClassCodes) &&
		codeIn(de.TypeCode, p.TypeCodes) &&
		codeIn(de.PracticeSettingCode, p.PracticeSettingCodes) &&
		codeIn(de.HealthcareFacilityTypeCode, p.HealthcareFacilityTypeCodes) &&
		codeIn(de.FormatCode, p.FormatCodes) &&
		codesAllOf(de.EventCodes, p.EventCodes) &&
		codesAllOf(de.ConfidentialityCodes, p.ConfidentialityCodes) &&
		authorsLike(de.Authors, p.AuthorPersons) &&
		p.CreationTime.Contains(de.CreationTime) &&
		p.ServiceStartTime.Contains(de.ServiceStartTime) &&
		p.ServiceStopTime.Contains(de.ServiceStopTime) &&
		stringsAllOf(de.ReferenceIDs, p.ReferenceIDs)
}

// matchContentFilter reports whether de passes the DocumentEntry filters of
// GetAll and the *AndContents queries: formatCode, confidentialityCode and
// entry type.
func matchContentFilter(de *rim.DocumentEntry, p *Params) bool {
	return entryTypeIn(de.ObjectType, p.DocumentEntryTypes) &&
		codeIn(de.FormatCode, p.FormatCodes) &&
		codesAllOf(de.ConfidentialityCodes, p.ConfidentialityCodes)
}

// matchFindSubmissionSets reports whether ss satisfies the
// FindSubmissionSets filters of p.
func matchFindSubmissionSets(ss *rim.SubmissionSet, p *Params) bool {
	var authors []string
	if p.SubmissionSetAuthorPerson != "" {
		authors = []string{p.SubmissionSetAuthorPerson}
	}
	return ss.PatientID == p.PatientID &&
		statusIn(ss.Status, p.SubmissionSetStatuses) &&
		(len(p.SubmissionSetSourceIDs) == 0 || slices.Contains(p.SubmissionSetSourceIDs, ss.SourceID)) &&
		p.SubmissionTime.Contains(ss.SubmissionTime) &&
		authorsLike(ss.Authors, authors) &&
		codeIn(ss.ContentTypeCode, p.ContentTypeCodes)
}

// matchFindFolders reports whether f satisfies the FindFolders filters of p.
func matchFindFolders(f *rim.Folder, p *Params) bool {
	return f.PatientID == p.PatientID &&
		statusIn(f.Status, p.FolderStatuses) &&
		p.FolderLastUpdateTime.Contains(f.LastUpdateTime) &&
		codesAllOf(f.CodeList, p.FolderCodes)
}

// statusIn reports whether status is one of statuses.
func statusIn(status string, statuses []string) bool {
	return len(statuses) == 0 || slices.Contains(statuses, status)
}

// entryTypeIn reports whether a DocumentEntry objectType is selected by
// $XDSDocumentEntryType; without the parameter only stable entries are
// (ITI TF-2 3.18.4.1.2.3.6.2).
func entryTypeIn(objectType string, types []string) bool {
	if len(types) == 0 {
		return objectType == rim.ObjectTypeStable
	}
	return slices.Contains(types, objectType)
}

// codeIn reports whether c equals one of codes, by code and scheme.
func codeIn(c rim.Code, codes []rim.Code) bool {
	if len(codes) == 0 {
		return true
	}
	for _, q := range codes {
		if q.Code == c.Code && q.Scheme == c.Scheme {
			return true
		}
	}
	return false
}

// codesAllOf reports whether have satisfies the AND-of-OR groups: each group
// has at least one code in have.
func codesAllOf(have []rim.Code, groups [][]rim.Code) bool {
	for _, g := range groups {
		found := false
		for _, c := range have {
			if codeIn(c, g) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// stringsAllOf reports whether have satisfies the AND-of-OR groups of exact
// strings (referenceIdList values are compared as whole CXi strings).
func stringsAllOf(have []string, groups [][]string) bool {
	for _, g := range groups {
		if !slices.ContainsFunc(have, func(h string) bool { return slices.Contains(g, h) }) {
			return false
		}
	}
	return true
}

// authorsLike reports whether one author's authorPerson matches one of the
// patterns.
func authorsLike(authors []rim.Author, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, a := range authors {
		for _, p := range patterns {
			if likeMatch(a.Person, p) {
				return true
			}
		}
	}
	return false
}

// likeMatch reports whether s matches the SQL LIKE pattern: % stands for
// any run of characters (also none), _ for exactly one character; there is
// no escape character (ITI-18 defines none). Matching is case-sensitive, as
// in the NIST registry, and by character, not byte, so _ matches one Ø.
func likeMatch(s, pattern string) bool {
	str, pat := []rune(s), []rune(pattern)
	// Greedy match with backtracking to the last %: linear in practice and
	// O(len(s)*len(pattern)) at worst, never exponential.
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(pat) && (pat[pi] == '_' || pat[pi] == str[si]):
			si++
			pi++
		case pi < len(pat) && pat[pi] == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '%' {
		pi++
	}
	return pi == len(pat)
}
