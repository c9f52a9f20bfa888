//! `getInto` as a plain JS function bound to one store (`NativeKv.getIntoFn`): a point read
//! is short enough that napi-rs' class-method machinery (unwrapping `this`, registering and
//! releasing the borrow) was a sixth of it. The function holds an `Arc<KvStore>`, released
//! when the function is garbage-collected; a closed store still answers `CLOSED`.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use aico_data_core::kv::{KvStore, ReadInto, Wait};
use napi::sys::{self, napi_callback_info, napi_env, napi_value};

use super::js;
use crate::error::OrThrow;

/// The body of the bound functions: see `NativeKv.getIntoFn`.
unsafe fn get_into(env: napi_env, store: &KvStore, args: [napi_value; 4], wait: Wait) -> napi::Result<napi_value> {
    let ns = js::namespace(env, args[0])?;
    let key = js::key(env, args[1], "key")?;
    let slab = js::slab(env, args[2])?;
    let mut offset = 0u32;
    js::status(sys::napi_get_value_uint32(env, args[3], &mut offset), "offset")?;
    let out = slab.get_mut(offset as usize..).unwrap_or_default();
    match store.get_into(&ns, &key, wait, out).or_throw()? {
        ReadInto::Written(n) => js::number(env, n as f64),
        ReadInto::Value(v) => js::buffer(env, v.bytes()),
        ReadInto::Missing => js::number(env, -1.0),
        ReadInto::NotInMemory => js::number(env, -2.0),
    }
}

unsafe fn call(env: napi_env, info: napi_callback_info, wait: Wait) -> napi_value {
    let mut argc = 4usize;
    let mut args = [ptr::null_mut(); 4];
    let mut data = ptr::null_mut();
    if sys::napi_get_cb_info(env, info, &mut argc, args.as_mut_ptr(), ptr::null_mut(), &mut data) != sys::Status::napi_ok {
        return ptr::null_mut();
    }
    let store = &*(data as *const KvStore);
    let res = catch_unwind(AssertUnwindSafe(|| get_into(env, store, args, wait)))
        .unwrap_or_else(|_| Err(napi::Error::new(napi::Status::GenericFailure, "[INTERNAL] panic in getInto".to_string())));
    match res {
        Ok(v) => v,
        Err(e) => {
            napi::JsError::from(e).throw_into(env);
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn get_block(env: napi_env, info: napi_callback_info) -> napi_value {
    call(env, info, Wait::Block)
}

unsafe extern "C" fn get_inline(env: napi_env, info: napi_callback_info) -> napi_value {
    call(env, info, Wait::Inline)
}

unsafe extern "C" fn release(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(Arc::from_raw(data as *const KvStore));
}

/// A JS function `(ns, key, slab, offset) => number | Buffer` bound to `store`.
pub unsafe fn get_into_fn(env: napi_env, store: &Arc<KvStore>, wait: Wait) -> napi::Result<napi_value> {
    let data = Arc::into_raw(store.clone()) as *mut c_void;
    let cb: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value = match wait {
        Wait::Block => get_block,
        Wait::Inline => get_inline,
    };
    let mut f = ptr::null_mut();
    let made = js::status(sys::napi_create_function(env, c"getInto".as_ptr(), 7, Some(cb), data, &mut f), "create function")
        .and_then(|_| js::status(sys::napi_add_finalizer(env, f, data, Some(release), ptr::null_mut(), ptr::null_mut()), "add finalizer"));
    if let Err(e) = made {
        drop(Arc::from_raw(data as *const KvStore));
        return Err(e);
    }
    Ok(f)
}
