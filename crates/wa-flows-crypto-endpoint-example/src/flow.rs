//! The flow itself: two screens, `PROFILE` (a name and a PhotoPicker) and `SUMMARY` (what the
//! endpoint received), then the flow closes. The README of this example is its specification.

use serde_json::{Value, json};
use wa_flows_crypto::{Action, FlowRequest};

use crate::media::{MAX_PHOTOS, MediaClient, PhotoSummary};

/// The first screen: a name and up to [`MAX_PHOTOS`] photos.
pub(crate) const PROFILE: &str = "PROFILE";
/// The second screen: what the endpoint received.
pub(crate) const SUMMARY: &str = "SUMMARY";
/// The screen name that closes the flow.
pub(crate) const SUCCESS: &str = "SUCCESS";

/// The answer to a decrypted request, as JSON text (to be encrypted). Pings and error
/// notifications never reach here: the library answers them (`automatic_response`).
pub(crate) async fn respond(request: &FlowRequest, media: &MediaClient) -> String {
    let answer = match &request.action {
        Action::Init | Action::Back => profile(""),
        Action::DataExchange => match request.screen.as_deref() {
            Some(PROFILE) => submit_profile(&request.data, media).await,
            Some(SUMMARY) => close(request.flow_token.as_deref().unwrap_or("")),
            _ => profile("unknown screen"),
        },
        _ => profile("unsupported action"),
    };
    answer.to_string()
}

/// The `PROFILE` screen, with an error message ("" when there is none).
fn profile(error_message: &str) -> Value {
    json!({ "screen": PROFILE, "data": { "error_message": error_message } })
}

/// `PROFILE` submitted `{"name": …, "photos": [...]}`: read every photo, then show `SUMMARY`,
/// or `PROFILE` again with the first photo that could not be read.
async fn submit_profile(data: &Value, media: &MediaClient) -> Value {
    let name = data.get("name").and_then(Value::as_str).unwrap_or("");
    let photos: &[Value] = match data.get("photos") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(photos)) => photos,
        Some(_) => return profile("photos is not a list"),
    };
    if photos.len() > MAX_PHOTOS {
        return profile(&format!("too many photos: at most {MAX_PHOTOS}"));
    }
    match media.read_all(photos).await {
        Ok(summaries) => summary(name, &summaries),
        Err(failure) => profile(&format!(
            "could not read photo {}: {}",
            failure.file_name, failure.code
        )),
    }
}

/// The `SUMMARY` screen: per photo its name, decrypted size and SHA-256 (lower-case hex).
fn summary(name: &str, photos: &[PhotoSummary]) -> Value {
    let total_bytes: u64 = photos.iter().map(|photo| photo.size).sum();
    let list: Vec<Value> = photos
        .iter()
        .map(|photo| {
            json!({ "file_name": photo.file_name, "size": photo.size, "sha256": photo.sha256 })
        })
        .collect();
    json!({
        "screen": SUMMARY,
        "data": {
            "name": name,
            "photo_count": photos.len(),
            "total_bytes": total_bytes,
            "photos": list,
            "summary": format!("{} photos, {total_bytes} bytes", photos.len()),
        }
    })
}

/// Closes the flow; WhatsApp sends `params` to the business in the completion message.
fn close(flow_token: &str) -> Value {
    json!({
        "screen": SUCCESS,
        "data": { "extension_message_response": { "params": { "flow_token": flow_token } } }
    })
}
