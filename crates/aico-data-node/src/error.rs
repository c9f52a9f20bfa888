//! Core errors -> JS errors. The stable code leads the message as `[CODE] message`; the
//! TypeScript layer turns it into `AicoDataError.code` (sync and async paths alike, since
//! napi's async rejections only carry napi's own status codes).

use napi::Status;

pub fn to_napi(e: aico_data_core::Error) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("[{}] {}", e.code(), e))
}

pub fn invalid(msg: impl std::fmt::Display) -> napi::Error {
    to_napi(aico_data_core::Error::InvalidArgument(msg.to_string()))
}

pub trait OrThrow<T> {
    fn or_throw(self) -> napi::Result<T>;
}

impl<T> OrThrow<T> for aico_data_core::Result<T> {
    fn or_throw(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}
