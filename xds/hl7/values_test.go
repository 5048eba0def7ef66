package hl7

// Values of the HL7 datatype tests: the ones validation's tests build
// their submissions from (validate_test.go), and a Volven code system OID.
const (
	hl7PatientFNR = "13116900216"
	hl7Patient    = hl7PatientFNR + "^^^&" + OIDFNR + "&ISO"
	hl7Author     = "565505933^GREVLING^KVART^^^^^^&" + OIDHPR + "&ISO"
	hl7Hospital   = "Finnmarkssykehuset HF^^^^^&" + OIDOrgNumber + "&ISO^^^^983974880"
	hl7Department = "Laboratoriemedisinsk avdeling - FIN^^^^^&" + OIDRESH + "&ISO^^^^4211607"
	hl7Volven9602 = "2.16.578.1.12.4.1.1.9602"
)
