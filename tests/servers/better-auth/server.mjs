// A small app on the real better-auth library, as an app would mount it: email and
// password, the two-factor plugin, the memory adapter. Session Warden's tests start it
// (tests/src/real/better_auth.rs), sign devices in through its real routes, and watch it.
//
// Environment:
//   FRESH_AGE  Better Auth's session.freshAge in seconds (default: the library's, a day)
//   BEARER     "1" adds the bearer plugin (default: cookies only, with the Origin check)
//
// It listens on 127.0.0.1 on a free port and prints "listening on http://127.0.0.1:PORT/"
// first. `/test/*` routes are the test's hands on the server side (creating users), never
// part of what Session Warden calls.

import http from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { bearer, twoFactor } from "better-auth/plugins";

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const db = { user: [], session: [], account: [], verification: [], twoFactor: [] };
const plugins = [twoFactor({ skipVerificationOnEnable: true })];
if (process.env.BEARER === "1") plugins.push(bearer());
const freshAge = process.env.FRESH_AGE ? Number(process.env.FRESH_AGE) : undefined;

const auth = betterAuth({
  baseURL: origin,
  secret: "session-warden-tests-only-secret-0123456789",
  database: memoryAdapter(db),
  emailAndPassword: { enabled: true },
  session: freshAge === undefined ? {} : { freshAge },
  plugins,
  // The tests sign in many times a minute; the limiter is the library's, not ours to test.
  rateLimit: { enabled: false },
});
const handler = toNodeHandler(auth);

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
}

function send(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

// The test's hands: a user, optionally with TOTP on (its otpauth URI returned).
async function testRoute(req, res) {
  if (req.method === "POST" && req.url === "/test/users") {
    const { email, password, name, totp } = await body(req);
    const signedUp = await auth.api.signUpEmail({
      body: { email, password, name: name ?? email },
      returnHeaders: true,
    });
    const cookie = signedUp.headers.get("set-cookie").split(";")[0];
    const headers = new Headers({ cookie, origin });
    const enabled = totp ? await auth.api.enableTwoFactor({ body: { password }, headers }) : {};
    // Signing up signed the user in: that session is not one of the test's devices.
    await auth.api.signOut({ headers });
    return send(res, 201, { id: signedUp.response.user.id, totpURI: enabled.totpURI ?? null });
  }
  if (req.method === "GET" && req.url.startsWith("/test/sessions")) {
    // What the server's database holds, tokens included, for the test to look for leaks.
    return send(res, 200, db.session);
  }
  send(res, 404, { message: "no such test route" });
}

server.on("request", (req, res) => {
  if (req.url.startsWith("/test/")) {
    testRoute(req, res).catch((e) => send(res, 500, { message: String(e?.message ?? e) }));
  } else {
    handler(req, res);
  }
});

console.log(`listening on ${origin}/`);
