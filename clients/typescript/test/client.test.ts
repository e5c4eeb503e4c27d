/**
 * The client's own rules, against a scripted fetch (no server): refresh once
 * on `token-expired` and share it, keep the idempotency key across the retry,
 * one typed `ApiProblem` for every error. `make test` runs these with
 * `node --test` after `tsc`; the lifecycle example runs the real fleet.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiProblem, createClient, memorySession, ok, type TokenPair } from "../src/index.js";

const BASE = "http://api.test";

function problem(status: number, code: string): Response {
  return new Response(
    JSON.stringify({ type: `https://errors.mindlinks.com/${code}`, title: code, status, detail: code, code }),
    { status, headers: { "content-type": "application/problem+json" } },
  );
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function pair(n: number): TokenPair {
  return { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresIn: 900, tokenType: "Bearer" };
}

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  idempotencyKey: string | null;
  company: string | null;
  body: string;
}

/** A fake API: it takes only the newest access token (`access-1` at first)
 * and rotates the refresh token (`refresh-0` at first) on each refresh. */
function fakeApi(): { fetch: (request: Request) => Promise<Response>; seen: Seen[]; refreshes: () => number } {
  const seen: Seen[] = [];
  let validAccess = "access-1";
  let validRefresh = "refresh-0";
  let refreshes = 0;
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const body = await request.text();
    seen.push({
      method: request.method,
      path: url.pathname,
      authorization: request.headers.get("authorization"),
      idempotencyKey: request.headers.get("idempotency-key"),
      company: request.headers.get("x-company-id"),
      body,
    });
    if (url.pathname === "/v1/auth/refresh") {
      await new Promise((resolve) => setTimeout(resolve, 20)); // concurrent callers pile up
      const given: unknown = JSON.parse(body);
      if (typeof given !== "object" || given === null || !("refreshToken" in given)) {
        return problem(422, "validation-error");
      }
      if (given.refreshToken !== validRefresh) {
        return problem(401, "refresh-token-reused");
      }
      refreshes += 1;
      const next = pair(refreshes);
      validAccess = next.accessToken;
      validRefresh = next.refreshToken;
      return json(next);
    }
    if (request.headers.get("authorization") !== `Bearer ${validAccess}`) {
      return problem(401, "token-expired");
    }
    if (url.pathname === "/v1/contracts") {
      return json({ id: "c1" }, 201);
    }
    return json({ id: "u1", email: "ada@example.com" });
  };
  return { fetch, seen, refreshes: () => refreshes };
}

test("an expired token is refreshed once for many concurrent calls, and each call retried", async () => {
  const api = fakeApi();
  const session = memorySession(pair(0)); // access-0 is stale: the server wants access-1
  const client = createClient({ baseUrl: BASE, fetch: api.fetch, ...session });
  const answers = await Promise.all(Array.from({ length: 5 }, () => ok(client.GET("/v1/auth/me"))));
  assert.equal(answers.length, 5);
  assert.equal(api.refreshes(), 1);
  assert.equal(session.getToken(), "access-1");
  const retried = api.seen.filter((s) => s.path === "/v1/auth/me" && s.authorization === "Bearer access-1");
  assert.equal(retried.length, 5);
});

test("a refused refresh signs out and returns the original 401 as a problem", async () => {
  const api = fakeApi();
  const session = memorySession({ ...pair(0), refreshToken: "refresh-stolen" });
  let signedOut = false;
  const client = createClient({
    baseUrl: BASE,
    fetch: api.fetch,
    getToken: session.getToken,
    refresh: { ...session.refresh, onSignedOut: () => void (signedOut = true) },
  });
  await assert.rejects(ok(client.GET("/v1/auth/me")), (error: unknown) => {
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.status, 401);
    assert.equal(error.code, "token-expired");
    return true;
  });
  assert.equal(signedOut, true);
});

test("the idempotency key is generated for routes that take one and kept across the retry", async () => {
  const api = fakeApi();
  const client = createClient({ baseUrl: BASE, fetch: api.fetch, ...memorySession(pair(0)), getCompanyId: () => "co-1" });
  const body = {
    contractorId: "k1",
    title: "T",
    description: "D",
    currency: "EUR" as const,
    startDate: "2027-01-04",
    terms: { kind: "milestones" as const, milestones: [{ title: "M", amountMinor: 100, dueDate: "2027-02-01" }] },
  };
  await ok(client.POST("/v1/contracts", { body }));
  const posts = api.seen.filter((s) => s.path === "/v1/contracts");
  assert.equal(posts.length, 2); // refused with the stale token, then retried
  assert.ok(posts[0]?.idempotencyKey);
  assert.equal(posts[0]?.idempotencyKey, posts[1]?.idempotencyKey);
  assert.equal(posts[1]?.body, posts[0]?.body);
  assert.deepEqual(posts.map((p) => p.company), ["co-1", "co-1"]);
  const me = api.seen.find((s) => s.path === "/v1/auth/me");
  assert.equal(me, undefined);
  await ok(client.GET("/v1/auth/me"));
  assert.equal(api.seen.at(-1)?.idempotencyKey, null); // a read takes none
});

test("a key the caller gives is kept", async () => {
  const api = fakeApi();
  const client = createClient({ baseUrl: BASE, fetch: api.fetch, ...memorySession(pair(1)) });
  await client.POST("/v1/kyc/sessions", { params: { header: { "Idempotency-Key": "mine-12345678" } } });
  assert.equal(api.seen.at(-1)?.idempotencyKey, "mine-12345678");
});

test("errors are one ApiProblem with the field errors; other failures too", async () => {
  const fields = [{ location: ["body", "email"], message: "not an email", type: "value_error" }];
  const failing = async (request: Request): Promise<Response> =>
    new URL(request.url).pathname === "/v1/auth/login"
      ? new Response(
          JSON.stringify({ type: "t", title: "Invalid", status: 422, detail: "d", code: "validation-error", errors: fields }),
          { status: 422, headers: { "content-type": "application/problem+json" } },
        )
      : new Response("<html>bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } });
  const client = createClient({ baseUrl: BASE, fetch: failing });
  await assert.rejects(ok(client.POST("/v1/auth/login", { body: { email: "x", password: "y" } })), (error: unknown) => {
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.code, "validation-error");
    assert.deepEqual(error.errors, fields);
    return true;
  });
  await assert.rejects(ok(client.GET("/v1/auth/me")), (error: unknown) => {
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.status, 502);
    assert.equal(error.code, "http-502");
    return true;
  });
});
