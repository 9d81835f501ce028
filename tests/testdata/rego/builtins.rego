# The built-ins, comprehensions, unification, set operations and
# undefined propagation GTA's shipped and documented policies rely on.
package verification

import future.keywords.in
import future.keywords.if
import future.keywords.contains

pcr_map := {sprintf("pcr%d", [p.pcr_index]): p.pcr_value | p := input.pcrs[_]}

defaults := {"hash_alg": "sha256", "strict": false}

settings := object.union(defaults, object.get(input, "settings", {}))

keys := sort([k | object.keys(settings)[k]])

evens := [n | n := numbers.range(0, 10)[_]; n % 2 == 0]

joined := array.concat(evens, [99])

upper_names := {lower(n) | some n in input.names}

common := upper_names & {"a", "b", "q"}

only_ours := upper_names - {"a"}

same := upper_names == {"a", "b", "c"}

first := x if {
	[x, _] := input.pair
}

# Unification with =.
second := y if {
	[_, y] = input.pair
}

hex := format_int(255, 16)

missing_alg := object.get(input, ["pcrs_meta", "alg"], "none")

# Undefined propagates: no "absent" field, no value.
absent_value := input.absent.deeper

incremental contains x if {
	some x in input.names
	x != "c"
}

incremental contains "extra"

result := {
	"pcr_map": pcr_map,
	"settings": settings,
	"keys": keys,
	"evens": evens,
	"joined": joined,
	"common": common,
	"only_ours": only_ours,
	"same": same,
	"first": first,
	"second": second,
	"hex": hex,
	"missing_alg": missing_alg,
	"has_absent": count([1 | absent_value]) > 0,
	"incremental": incremental,
	"n": count(input.names),
}
