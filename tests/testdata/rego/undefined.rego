# A result that is undefined for some inputs (GTA refuses those).
package verification

default allowed = false

allowed {
	input.level >= 3
}

result = {"policy_matched": allowed} {
	input.level
}
