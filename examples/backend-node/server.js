// Run the example backend: SMSVERIFY_URL=https://<your function URL, with its path> TOKEN_ISSUER=... TOKEN_AUDIENCE=... node server.js
import { createBackend, jwksUrlOf } from './backend.js';

const base = process.env.SMSVERIFY_URL ?? 'http://127.0.0.1:9000';
const backend = createBackend({
  jwksUrl: jwksUrlOf(base), // keeps an API Gateway stage path (…/release/…)
  issuer: process.env.TOKEN_ISSUER ?? 'smsverify-local',
  audience: process.env.TOKEN_AUDIENCE ?? 'smsverify-local',
  scene: process.env.SCENE || 'login',
});
const port = Number(process.env.PORT ?? 8080);
backend.listen(port, '127.0.0.1', () => console.error(`backend: GET http://127.0.0.1:${port}/me with Authorization: Bearer <token>`));
