// Package devissuer is kjdd's development identity: the HelseID issuer and
// the XUA SAML signer that `kjdd serve --dev` stands in for, and that
// `kjdd dev token` and `kjdd dev saml` mint credentials from.
//
// Its keys are created on first use in a directory (KJDD_DEV_KEYS), files
// readable by their owner only, and reused afterwards, so that tokens
// minted by the CLI verify against the running server. The server records
// in the same directory the issuer URL and the audiences it expects, which
// the CLI reads, so the two cannot disagree.
//
// None of this is for production: the keys sit unprotected on disk, and
// anyone who can read them can mint any identity. serve uses this package
// only under --dev, which it announces with a loud warning.
package devissuer
