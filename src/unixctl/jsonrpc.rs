//! The wire format `ovs-appctl` speaks: JSON-RPC 1.0 objects sent back to
//! back on a unix stream socket, with no other framing. A request is
//! `{"method": M, "params": [strings], "id": ID}`; the reply carries the
//! same id and either a `result` or an `error`, each a string of text.
use serde_json::{json, Value};

/// Deepest nesting a message may have; `ovs-appctl` sends depth 2.
const MAX_DEPTH: usize = 64;

/// Where the first JSON value in `buf` ends: `Ok(Some(len))` once it is
/// complete, `Ok(None)` while more bytes are needed, `Err` when the bytes
/// cannot start or continue a JSON-RPC message. Leading whitespace belongs
/// to the message. Never panics, whatever the bytes.
pub fn frame_end(buf: &[u8]) -> Result<Option<usize>, String> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in buf.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => {}
            b'{' | b'[' => {
                if depth == 0 && b != b'{' {
                    return Err("a JSON-RPC message must be an object".into());
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("message nested deeper than {MAX_DEPTH}"));
                }
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            }
            b'"' if depth > 0 => in_string = true,
            _ if depth == 0 => return Err("a JSON-RPC message must be an object".into()),
            _ => {}
        }
    }
    Ok(None)
}

/// One request: the command and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The command name, e.g. `dpif-netdev/pmd-stats-show`.
    pub method: String,
    /// Its arguments.
    pub params: Vec<String>,
    /// The id to answer with.
    pub id: Value,
}

/// What could not be made a request: the reason, and the id to answer
/// with when the message had one (a message without one gets no reply).
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    /// Why.
    pub reason: String,
    /// The message's id, if it had one.
    pub id: Option<Value>,
}

/// Decodes one framed message.
pub fn decode(msg: &[u8]) -> Result<Request, Malformed> {
    let bad = |reason: String, id: Option<Value>| Malformed { reason, id };
    let v: Value = serde_json::from_slice(msg)
        .map_err(|e| bad(format!("malformed JSON-RPC message: {e}"), None))?;
    let Value::Object(o) = v else {
        return Err(bad("a JSON-RPC message must be an object".into(), None));
    };
    let id = o.get("id").filter(|i| !i.is_null()).cloned();
    let Some(Value::String(method)) = o.get("method") else {
        return Err(bad("message is not a request (no \"method\")".into(), id));
    };
    let Some(id) = id else {
        return Err(bad("a request must have an \"id\"".into(), None));
    };
    let params = match o.get("params") {
        Some(Value::Array(ps)) => ps
            .iter()
            .map(|p| p.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("command has non-string argument".into(), Some(id.clone())))?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(bad("\"params\" must be an array".into(), Some(id))),
    };
    Ok(Request {
        method: method.clone(),
        params,
        id,
    })
}

/// The reply to request `id`: its text, or the error's.
pub fn encode_reply(id: &Value, outcome: &Result<String, String>) -> Vec<u8> {
    let v = match outcome {
        Ok(text) => json!({ "id": id, "result": text, "error": null }),
        Err(text) => json!({ "id": id, "result": null, "error": text }),
    };
    // A Value of strings and the peer's own id always serialises.
    serde_json::to_vec(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_found_however_the_bytes_arrive() {
        let msg = br#" {"method":"a}\"b","params":["{[x"],"id":0}{"next":1}"#;
        let end = frame_end(msg).unwrap().unwrap();
        assert_eq!(&msg[end..], br#"{"next":1}"#);
        for cut in 0..end {
            assert_eq!(frame_end(&msg[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(frame_end(b"[1]").is_err());
        assert!(frame_end(b"x").is_err());
        assert!(frame_end(&[b'{'; 100]).is_err());
    }

    #[test]
    fn requests_decode_and_refusals_keep_the_id() {
        let r = decode(br#"{"method":"version","params":["a"],"id":7}"#).unwrap();
        assert_eq!(r.method, "version");
        assert_eq!(r.params, ["a"]);
        assert_eq!(r.id, json!(7));
        let e = decode(br#"{"method":"x","params":[1],"id":3}"#).unwrap_err();
        assert_eq!(e.id, Some(json!(3)));
        assert!(e.reason.contains("non-string"));
        assert!(decode(br#"{"method":"x","params":[]}"#)
            .unwrap_err()
            .id
            .is_none());
        assert!(decode(b"{not json}").is_err());
    }

    #[test]
    fn replies_carry_result_or_error() {
        let ok: Value =
            serde_json::from_slice(&encode_reply(&json!(1), &Ok("t\n".into()))).unwrap();
        assert_eq!(ok, json!({"id": 1, "result": "t\n", "error": null}));
        let err: Value =
            serde_json::from_slice(&encode_reply(&json!(2), &Err("no".into()))).unwrap();
        assert_eq!(err, json!({"id": 2, "result": null, "error": "no"}));
    }
}
