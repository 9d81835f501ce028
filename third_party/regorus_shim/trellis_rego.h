/* C API of the regorus shim (src/lib.rs). Strings are (pointer, length)
 * UTF-8; strings returned through `char**` are NUL-terminated, owned by the
 * caller and freed with trellis_rego_string_free. No function panics across
 * the boundary: a Rust panic is reported as an error. */
#ifndef TRELLIS_THIRD_PARTY_REGORUS_SHIM_TRELLIS_REGO_H_
#define TRELLIS_THIRD_PARTY_REGORUS_SHIM_TRELLIS_REGO_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct TrellisRego TrellisRego;

/* A new engine without policies. */
TrellisRego* trellis_rego_new(void);
/* A copy of `engine` (its policies and data), to evaluate independently:
 * `engine` may be cloned from several threads at once. NULL on failure. */
TrellisRego* trellis_rego_clone(const TrellisRego* engine);
void trellis_rego_free(TrellisRego* engine);

/* Parses a module (`path` names it in errors). 0 on success, else -1 and
 * *error. */
int trellis_rego_add_policy(TrellisRego* engine, const char* path,
                            size_t path_len, const char* text, size_t text_len,
                            char** error);
/* Sets `input` from JSON. 0 or -1 and *error. */
int trellis_rego_set_input_json(TrellisRego* engine, const char* json,
                                size_t json_len, char** error);
/* Evaluates `query`: 1 and *result_json (the first expression's value) if
 * it is defined, 0 if it is undefined, -1 and *error on a compile or
 * evaluation error. */
int trellis_rego_eval_query(TrellisRego* engine, const char* query,
                            size_t query_len, char** result_json, char** error);

void trellis_rego_string_free(char* s);

#ifdef __cplusplus
}
#endif

#endif /* TRELLIS_THIRD_PARTY_REGORUS_SHIM_TRELLIS_REGO_H_ */
