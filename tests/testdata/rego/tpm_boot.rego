# GTA-style tpm_boot policy (v0 syntax with future keywords): Secure Boot
# on, the log replayed, PCRs 0-7 reported.
package verification

import future.keywords.if
import future.keywords.in

default secure_boot = "no"

secure_boot = "yes" if {
	some log in input.evidence.logs
	log.log_type == "TcgEventLog"
	some event in log.log_data
	event.event_type == "EV_EFI_VARIABLE_DRIVER_CONFIG"
	event.event.unicode_name == "SecureBoot"
	lower(event.event.variable_data.enabled) == "yes"
}

replayed if {
	input.evidence.logs[_].log_status == "replay_success"
}

reported_pcrs := {p.pcr_index | some p in input.evidence.pcrs.pcr_values}

pcrs_complete if {
	required := {i | some i in numbers.range(0, 7)}
	count(required - reported_pcrs) == 0
}

default matched = false

matched if {
	secure_boot == "yes"
	replayed
	pcrs_complete
}

result := {
	"policy_matched": matched,
	"custom_data": {"hash_alg": input.evidence.pcrs.hash_alg},
}
