// Package consent is kjdd's sperring (patient blocking): the record model,
// the one decision function every read path goes through, and the cache that
// keeps each patient's decision inputs close to hand without ever failing
// open.
//
// Three levels of sperring exist (DESIGN.md §5):
//
//   - document: a DocumentEntry carrying confidentialityCode NORS (Volven
//     9603), or a record of kind "document" naming its uniqueId;
//   - practitioner: a record of kind "practitioner", the patient has blocked
//     one HPR number;
//   - patient: a record of kind "patient", nothing of the patient is shared.
//
// Policy.Decide is pure: given the requester, the patient's Inputs and the
// candidate entries it says, per entry, whether it is shown, hidden,
// obfuscated or shown by override, and why. Only document-level sperring can
// be overridden, and only by a configured purpose of use (BTG by default).
//
// The Resolver reads Inputs through a Cache (Redis shared by all instances,
// or an in-process cache for a single instance) and falls back to the
// RecordStore; when neither can answer it returns ErrUnavailable and the
// caller denies.
//
// The package never logs and never puts into an error a national identity
// number: Redis keys and notifications carry a keyed hash of it instead.
package consent
