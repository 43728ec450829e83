//! Several private keys at once, newest first, for key rotation.

use crate::error::{Error, Result};
use crate::key::FlowPrivateKey;
use crate::request::{DecryptedRequest, EncryptedRequest};

/// The business's private keys, newest first: the newest one's public key is the one uploaded,
/// the older ones open requests from clients that still cache an older public key.
///
/// WhatsApp clients keep encrypting with the public key they cached until an answer of 421
/// makes them fetch it again, so after uploading a new key, keep the old one in the ring until
/// no request needs it ([`DecryptedRequest::key_index`] says which key opened each request),
/// then drop it.
///
/// ```
/// use wa_flows_crypto::{client, FlowKeyRing, FlowPrivateKey};
///
/// let (new, old) = (FlowPrivateKey::generate()?, FlowPrivateKey::generate()?);
/// let (body, _session) = client::seal_request(&old.public_key(), br#"{"action":"ping"}"#)?;
/// let ring = FlowKeyRing::new(vec![new, old])?;
/// assert_eq!(ring.decrypt_request(body.as_bytes())?.key_index(), 1);
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FlowKeyRing {
    // Split so that "the newest key" needs no empty case.
    newest: FlowPrivateKey,
    older: Vec<FlowPrivateKey>,
}

impl FlowKeyRing {
    /// A ring of `keys`, newest first.
    ///
    /// # Errors
    /// [`Error::InvalidConfiguration`] for an empty list.
    pub fn new(keys: Vec<FlowPrivateKey>) -> Result<Self> {
        let mut keys = keys.into_iter();
        let newest = keys.next().ok_or(Error::InvalidConfiguration(
            "the key ring is empty; give at least the current private key",
        ))?;
        Ok(Self {
            newest,
            older: keys.collect(),
        })
    }

    /// The keys, newest first.
    pub fn keys(&self) -> impl Iterator<Item = &FlowPrivateKey> {
        core::iter::once(&self.newest).chain(&self.older)
    }

    /// How many keys the ring holds (at least one).
    pub fn len(&self) -> usize {
        1 + self.older.len()
    }

    /// Always `false`: a ring holds at least one key.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The newest key: the one whose public key should be uploaded.
    pub fn newest(&self) -> &FlowPrivateKey {
        &self.newest
    }

    /// Decrypts the raw POST body with the first key whose RSA-OAEP unwrap succeeds.
    ///
    /// # Errors
    /// As [`crate::decrypt_request`]; [`Error::KeyUnwrap`] (421, so that WhatsApp re-fetches
    /// the public key) when no key unwraps it.
    pub fn decrypt_request(&self, body: &[u8]) -> Result<DecryptedRequest> {
        self.decrypt(&EncryptedRequest::from_json(body)?)
    }

    /// As [`decrypt_request`](Self::decrypt_request), for a request already parsed.
    ///
    /// # Errors
    /// As [`decrypt_request`](Self::decrypt_request).
    pub fn decrypt(&self, request: &EncryptedRequest) -> Result<DecryptedRequest> {
        for (index, key) in self.keys().enumerate() {
            match request.decrypt(key) {
                // Another key may be the request's own.
                Err(Error::KeyUnwrap) => continue,
                // Unwrapped, so this key is the request's: its verdict is final.
                outcome => return outcome.map(|request| request.with_key_index(index)),
            }
        }
        Err(Error::KeyUnwrap)
    }
}

impl FlowPrivateKey {
    /// [`crate::decrypt_request`] as a method: the body, then (as `self`) the key.
    ///
    /// # Errors
    /// As [`crate::decrypt_request`].
    pub fn decrypt_request(&self, body: &[u8]) -> Result<DecryptedRequest> {
        EncryptedRequest::from_json(body)?.decrypt(self)
    }
}

impl From<FlowPrivateKey> for FlowKeyRing {
    fn from(newest: FlowPrivateKey) -> Self {
        Self {
            newest,
            older: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client;

    #[test]
    fn each_key_opens_its_requests_and_no_key_is_key_unwrap() {
        let keys: Vec<_> = (0..3)
            .map(|_| FlowPrivateKey::generate().unwrap())
            .collect();
        let stranger = FlowPrivateKey::generate().unwrap();
        let ring = FlowKeyRing::new(keys.clone()).unwrap();
        assert_eq!((ring.len(), ring.is_empty()), (3, false));
        let one = FlowKeyRing::new(vec![stranger.clone()]).unwrap();
        assert_eq!((one.len(), one.is_empty()), (1, false));
        for (index, key) in keys.iter().enumerate() {
            let (body, session) =
                client::seal_request(&key.public_key(), br#"{"action":"INIT"}"#).unwrap();
            let opened = ring.decrypt_request(body.as_bytes()).unwrap();
            assert_eq!(opened.key_index(), index);
            let answer = opened.encrypt_response(b"{}");
            assert_eq!(session.open_response(&answer).unwrap(), b"{}");
        }
        let (body, _) = client::seal_request(&stranger.public_key(), b"{}").unwrap();
        assert_eq!(
            ring.decrypt_request(body.as_bytes()).unwrap_err(),
            Error::KeyUnwrap
        );
        assert_eq!(
            FlowKeyRing::new(Vec::new()).unwrap_err().code(),
            "invalid_configuration"
        );
    }
}
