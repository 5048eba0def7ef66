// Package validate checks the metadata of an ITI-41 or ITI-42 submission
// (a rim.Submission) against the IHE rules of ITI TF-3 and, with
// Options.Norwegian, the Norwegian profile (Volven code systems,
// fødselsnummer and HPR, ENH and RESH institutions). Submission returns
// every finding as rim.RegistryErrors with the most specific IHE error
// code; Rule names the rule behind one.
//
// It imports rim and hl7.
package validate
