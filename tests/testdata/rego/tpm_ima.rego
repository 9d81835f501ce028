# GTA-style tpm_ima policy: every measured file matched a reference value,
# partial rules, else chains and functions.
package verification

import future.keywords.if
import future.keywords.in
import future.keywords.contains

ima_logs := [l | some l in input.evidence.logs; l.log_type == "ImaLog"]

unmatched contains entry.file_path if {
	some l in ima_logs
	some entry in l.log_data.logs
	entry.ref_value_matched == false
}

files[path] := hash if {
	some l in ima_logs
	entry := l.log_data.logs[_]
	path := entry.file_path
	hash := concat(":", [entry.file_hash_alg, entry.file_hash])
}

status(s) := "good" if {
	s == "matched"
} else := "unknown" if {
	s == "ignore"
} else := "bad"

verdict := status(ima_logs[0].ref_value_match_status)

default matched := false

matched if {
	count(unmatched) == 0
	not failed_replay
}

failed_replay if {
	some l in ima_logs
	l.log_status != "replay_success"
}

result := {
	"policy_matched": matched,
	"custom_data": {
		"verdict": verdict,
		"unmatched": sort(unmatched),
		"files": count(files),
		"first_pcr": format_int(ima_logs[0].log_data.logs[0].pcr_index, 16),
	},
}
