//! C API over regorus for Trellis (see ../trellis_rego.h).

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

use regorus::{Engine, Value};

pub struct TrellisRego {
    engine: Engine,
}

/// A C string for `text` (interior NULs, impossible in JSON or error
/// messages, are dropped rather than failing).
fn into_c_string(text: String) -> *mut c_char {
    let bytes: Vec<u8> = text.into_bytes().into_iter().filter(|b| *b != 0).collect();
    CString::new(bytes).map(CString::into_raw).unwrap_or(std::ptr::null_mut())
}

unsafe fn set_error(error: *mut *mut c_char, message: String) {
    if !error.is_null() {
        *error = into_c_string(message);
    }
}

unsafe fn text_of<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, String> {
    if ptr.is_null() {
        return if len == 0 { Ok("") } else { Err("null string".to_string()) };
    }
    let bytes = std::slice::from_raw_parts(ptr as *const u8, len);
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

/// Runs `body`, turning an error or a panic into -1 and `*error`.
unsafe fn guarded(error: *mut *mut c_char, body: impl FnOnce() -> Result<c_int, String>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(code)) => code,
        Ok(Err(message)) => {
            set_error(error, message);
            -1
        }
        Err(_) => {
            set_error(error, "the Rego engine panicked".to_string());
            -1
        }
    }
}

#[no_mangle]
pub extern "C" fn trellis_rego_new() -> *mut TrellisRego {
    catch_unwind(|| Box::into_raw(Box::new(TrellisRego { engine: Engine::new() })))
        .unwrap_or(std::ptr::null_mut())
}

#[no_mangle]
pub unsafe extern "C" fn trellis_rego_clone(engine: *const TrellisRego) -> *mut TrellisRego {
    if engine.is_null() {
        return std::ptr::null_mut();
    }
    catch_unwind(AssertUnwindSafe(|| {
        Box::into_raw(Box::new(TrellisRego { engine: (*engine).engine.clone() }))
    }))
    .unwrap_or(std::ptr::null_mut())
}

#[no_mangle]
pub unsafe extern "C" fn trellis_rego_free(engine: *mut TrellisRego) {
    if !engine.is_null() {
        drop(Box::from_raw(engine));
    }
}

#[no_mangle]
pub unsafe extern "C" fn trellis_rego_add_policy(
    engine: *mut TrellisRego,
    path: *const c_char,
    path_len: usize,
    text: *const c_char,
    text_len: usize,
    error: *mut *mut c_char,
) -> c_int {
    guarded(error, || {
        let engine = engine.as_mut().ok_or("null engine")?;
        let path = text_of(path, path_len)?;
        let text = text_of(text, text_len)?;
        engine
            .engine
            .add_policy(path.to_string(), text.to_string())
            .map(|_| 0)
            .map_err(|e| e.to_string())
    })
}

#[no_mangle]
pub unsafe extern "C" fn trellis_rego_set_input_json(
    engine: *mut TrellisRego,
    json: *const c_char,
    json_len: usize,
    error: *mut *mut c_char,
) -> c_int {
    guarded(error, || {
        let engine = engine.as_mut().ok_or("null engine")?;
        let json = text_of(json, json_len)?;
        engine.engine.set_input_json(json).map(|_| 0).map_err(|e| e.to_string())
    })
}

#[no_mangle]
pub unsafe extern "C" fn trellis_rego_eval_query(
    engine: *mut TrellisRego,
    query: *const c_char,
    query_len: usize,
    result_json: *mut *mut c_char,
    error: *mut *mut c_char,
) -> c_int {
    guarded(error, || {
        let engine = engine.as_mut().ok_or("null engine")?;
        let query = text_of(query, query_len)?;
        let results = engine
            .engine
            .eval_query(query.to_string(), false)
            .map_err(|e| e.to_string())?;
        let value = match results.result.first().and_then(|r| r.expressions.first()) {
            Some(expression) => &expression.value,
            None => return Ok(0),
        };
        if *value == Value::Undefined {
            return Ok(0);
        }
        let json = value.to_json_str().map_err(|e| e.to_string())?;
        if !result_json.is_null() {
            *result_json = into_c_string(json);
        }
        Ok(1)
    })
}

#[no_mangle]
pub unsafe extern "C" fn trellis_rego_string_free(s: *mut c_char) {
    if !s.is_null() {
        drop(CString::from_raw(s));
    }
}
