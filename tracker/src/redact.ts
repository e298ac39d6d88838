/**
 * URL redaction for everything the tracker records (network requests, page visits, the Meta
 * event's href): query and fragment values whose key looks like a secret are replaced, and
 * credentials in the authority are removed. Keys only: values are never inspected.
 */

export const REDACTED = 'REDACTED';

/** Parts that mark a key as secret wherever they appear in it (accessToken, x_api_key, session_id). */
const SECRET_PART = /token|secret|passw|pwd|auth|session|credential|signature|jwt|otp|api[_-]?key|private[_-]?key|access[_-]?key|client[_-]?secret/i;
/** Short keys that are secret only as a whole word or suffix (key, sig, code), so "keyword" is kept. */
const SECRET_WORD = /(^|[_\-.])(key|sig|code|sid|pin|ssn|hash|nonce|state)$|[a-z](Key|Sig|Code)$/;

export function isSensitiveKey(key: string): boolean {
  return SECRET_PART.test(key) || SECRET_WORD.test(key);
}

function redactParams(params: string): string {
  return params
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let key = pair.slice(0, eq);
      try {
        key = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        /* keep the raw key */
      }
      return isSensitiveKey(key) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

/** Redacts `url`, resolved against `base` when relative. Unparseable input comes back unchanged. */
export function redactUrl(url: string, base?: string): string {
  let u: URL;
  try {
    u = base ? new URL(url, base) : new URL(url);
  } catch {
    return url;
  }
  if (u.password) u.password = REDACTED;
  if (u.username) u.username = REDACTED;
  if (u.search.length > 1) u.search = '?' + redactParams(u.search.slice(1));
  // OAuth implicit flow and many SPAs put tokens in the fragment: #access_token=...&state=...
  if (u.hash.includes('=')) {
    const h = u.hash.slice(1);
    const q = h.indexOf('?');
    u.hash = q >= 0 ? h.slice(0, q + 1) + redactParams(h.slice(q + 1)) : redactParams(h);
  }
  return u.toString();
}
