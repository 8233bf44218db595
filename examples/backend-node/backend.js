// A backend that trusts smsverify's login token. No framework: node:http and the `jose` package.
//
// The client logs in with smsverify (method=login) and sends the `token` of the Success answer to
// this backend as `Authorization: Bearer <token>`. The backend verifies it against the function's
// public keys (JWKS, RFC 7517), fetched from `<function URL>/.well-known/jwks.json` and cached by
// jose's createRemoteJWKSet, with the issuer and audience it expects (TOKEN_ISSUER and
// TOKEN_AUDIENCE of the function) and the scene it serves (login unless told another: a register
// token is refused where a login is expected).
// The accepted algorithms are pinned (RFC 8725): ES256 and EdDSA, never `none` or HS256.

import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export const ALGORITHMS = ['ES256', 'EdDSA'];

/**
 * The JWKS URL of a function base URL, keeping its path: behind API Gateway the base carries the
 * stage and the API path (`https://service-….apigw.tencentcs.com/release/sms`), which
 * `new URL('/.well-known/jwks.json', base)` would drop (an absolute path replaces the base's).
 *
 * @param {string} base  the function's URL, as the client calls it
 * @returns {string}     `<base path>/.well-known/jwks.json`, without the base's query or fragment
 */
export function jwksUrlOf(base) {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/.well-known/jwks.json`;
  url.search = '';
  url.hash = '';
  return url.href;
}

// What failed, from jose's error codes (https://github.com/panva/jose/blob/main/docs/util/errors).
function reasonOf(error) {
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return error.claim === 'aud' ? 'audience' : error.claim === 'iss' ? 'issuer' : `claim:${error.claim}`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm';
    case 'ERR_JWKS_TIMEOUT':
      return 'jwks_unavailable';
    default:
      return 'malformed';
  }
}

/**
 * A verifier: `verify(token) -> claims`, throwing an Error whose `reason` says what failed
 * (signature, expired, audience, issuer, scene, algorithm, malformed).
 *
 * @param {object} options
 * @param {string} options.jwksUrl   the function's `/.well-known/jwks.json`
 * @param {string} options.issuer    expected `iss` (the function's TOKEN_ISSUER)
 * @param {string} options.audience  expected `aud` (the function's TOKEN_AUDIENCE)
 * @param {string} [options.scene]   required `scene` claim ('login' by default)
 * @param {() => Date} [options.now] the verifier's clock (tests move it forward)
 */
export function createVerifier({ jwksUrl, issuer, audience, scene = 'login', now }) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  return async function verify(token) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer,
        audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
        clockTolerance: 30,
        ...(now ? { currentDate: now() } : {}),
      }));
    } catch (error) {
      throw Object.assign(new Error(error.message), { reason: reasonOf(error) });
    }
    if (payload.scene !== scene) {
      throw Object.assign(new Error(`scene ${payload.scene} where ${scene} is required`), { reason: 'scene' });
    }
    return payload;
  };
}

function answer(response, status, body) {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

/**
 * The request handler: `GET /me` with `Authorization: Bearer <token>` answers who logged in,
 * `{"phone", "scene", "openid"?}` (200), or `{"error": reason}` (401). Options as createVerifier.
 */
export function createHandler(options) {
  const verify = createVerifier(options);
  return async function handle(request, response) {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(request.headers.authorization ?? '');
    if (!match) {
      answer(response, 401, { error: 'missing_token' });
      return;
    }
    try {
      const claims = await verify(match[1]);
      answer(response, 200, {
        phone: claims.phone_number,
        scene: claims.scene,
        ...(claims.openid ? { openid: claims.openid } : {}),
      });
    } catch (error) {
      // Never log the token itself.
      answer(response, error.reason === 'jwks_unavailable' ? 503 : 401, { error: error.reason ?? 'malformed' });
    }
  };
}

/** An HTTP server with the handler (not listening yet). */
export function createBackend(options) {
  const handle = createHandler(options);
  return createServer((request, response) => {
    handle(request, response).catch(() => answer(response, 500, { error: 'internal' }));
  });
}
