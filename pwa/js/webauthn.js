// Passkeys in the browser: the server's WebAuthn options arrive as JSON with bytes in
// base64url; navigator.credentials wants ArrayBuffers, and gives ArrayBuffers back. This
// module turns one into the other both ways, and nothing else (the server checks all).
// Signing in and adding a passkey need the network, so it is not in the precached shell.

export const passkeysSupported = () =>
  typeof window.PublicKeyCredential === 'function' && Boolean(navigator.credentials?.create);

export function fromBase64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
}

export function toBase64url(buffer) {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const descriptors = (list) => (list || []).map((d) => ({ ...d, id: fromBase64url(d.id) }));

function common(credential) {
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
    // extension outputs are not used by the server (and may hold bytes JSON cannot carry)
    clientExtensionResults: {},
  };
}

// Make a passkey for the options of POST /auth/passkeys/options; the answer to send back.
export async function createPasskey(options) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  const { response } = credential;
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      transports: response.getTransports?.() ?? [],
    },
  };
}

// Sign in with a passkey for the options of POST /auth/login/passkey/options.
export async function getPasskey(options) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey });
  const { response } = credential;
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    },
  };
}

// A person who cancels the browser's passkey sheet has not failed at anything.
export const cancelled = (err) => err?.name === 'NotAllowedError' || err?.name === 'AbortError';
