/**
 * `@mindlinks/api`: the typed client of the Mind-Links API.
 *
 * The types come from `docs/openapi.json` (`make sdk`); the calls go through
 * openapi-fetch. One `createClient({ baseUrl, getToken })` adds, in one place,
 * what every dashboard would otherwise write again:
 * - the access token (`getToken`) and the company a member acts for;
 * - refresh-token rotation: on a `401 token-expired` the client refreshes
 *   once and retries, and concurrent calls share that single refresh (a
 *   refresh token is single-use: two refreshes with one token would end the
 *   session);
 * - an `Idempotency-Key` on every route that takes one, kept across that retry;
 * - problem+json answers as one typed `ApiProblem` (see `ok`).
 */
import createFetchClient, { type Client, type Middleware } from "openapi-fetch";

import { IDEMPOTENT_ROUTES } from "./generated/idempotent.js";
import type { components, operations, paths } from "./generated/schema.js";
import { ApiProblem, hasCode } from "./problem.js";

export type { components, operations, paths };
export { ApiProblem, type FieldError, type ProblemDetails } from "./problem.js";

export type Schemas = components["schemas"];
export type TokenPair = Schemas["TokenPair"];
export type MindLinksClient = Client<paths, "application/json">;

type Maybe<T> = T | null | undefined;

export interface Refresh {
  /** The refresh token to rotate (read when a refresh starts). */
  getRefreshToken: () => Maybe<string> | Promise<Maybe<string>>;
  /** Keep the new pair: the old refresh token is spent. */
  onTokens: (tokens: TokenPair) => void | Promise<void>;
  /** The refresh token was refused (expired, reused, signed out): sign in again. */
  onSignedOut?: (problem: ApiProblem) => void | Promise<void>;
}

export interface ClientOptions {
  /** E.g. `https://api.mindlinks.com` or the local edge `http://localhost:8080`. */
  baseUrl: string;
  /** The access token to send, if any. */
  getToken?: () => Maybe<string> | Promise<Maybe<string>>;
  /** Refresh-token rotation; without it a `token-expired` answer is returned as is. */
  refresh?: Refresh;
  /** The company a client-side request acts for (`X-Company-Id`): needed only
   * by an account that belongs to several. */
  getCompanyId?: () => Maybe<string>;
  /** A fetch of your own (tests, instrumentation); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** Makes the keys of idempotent requests; a random UUID by default. */
  newIdempotencyKey?: () => string;
}

const TOKEN_EXPIRED = "token-expired";
const IDEMPOTENT = new Set(IDEMPOTENT_ROUTES.map(([method, path]) => `${method} ${path}`));

export function createClient(options: ClientOptions): MindLinksClient {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  let refreshing: Promise<string | null> | null = null;

  async function authorize(request: Request): Promise<string | null> {
    const token = (await options.getToken?.()) ?? null;
    if (token) {
      request.headers.set("authorization", `Bearer ${token}`);
    }
    return token;
  }

  async function refreshNow(refresh: Refresh): Promise<string | null> {
    const refreshToken = await refresh.getRefreshToken();
    if (!refreshToken) {
      return null;
    }
    const response = await send(
      new Request(`${baseUrl}/v1/auth/refresh`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken }),
      }),
    );
    if (!response.ok) {
      await refresh.onSignedOut?.(await ApiProblem.from(response));
      return null;
    }
    const tokens: TokenPair = await response.json();
    await refresh.onTokens(tokens);
    return tokens.accessToken;
  }

  /** One refresh at a time: every call that meets an expired token waits for it. */
  function refreshOnce(refresh: Refresh): Promise<string | null> {
    refreshing ??= refreshNow(refresh).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function authorizedFetch(request: Request): Promise<Response> {
    const spare = request.clone(); // the body can be sent once; the retry sends this
    const used = await authorize(request);
    const response = await send(request);
    const refresh = options.refresh;
    if (response.status !== 401 || !refresh || !(await hasCode(response, TOKEN_EXPIRED))) {
      return response;
    }
    // Another call may have refreshed meanwhile: then only the retry is left.
    const current = (await options.getToken?.()) ?? null;
    const fresh = current && current !== used ? current : await refreshOnce(refresh);
    if (!fresh) {
      return response;
    }
    spare.headers.set("authorization", `Bearer ${fresh}`);
    return send(spare);
  }

  const headers: Middleware = {
    onRequest({ request, schemaPath }) {
      const company = options.getCompanyId?.();
      if (company && !request.headers.has("x-company-id")) {
        request.headers.set("x-company-id", company);
      }
      if (
        IDEMPOTENT.has(`${request.method} ${schemaPath}`) &&
        !request.headers.has("idempotency-key")
      ) {
        request.headers.set(
          "idempotency-key",
          options.newIdempotencyKey?.() ?? globalThis.crypto.randomUUID(),
        );
      }
      return request;
    },
  };

  const client = createFetchClient<paths, "application/json">({
    baseUrl,
    fetch: authorizedFetch,
  });
  client.use(headers);
  return client;
}

/** What an openapi-fetch call resolves to, reduced to what `ok` reads. */
interface Settled<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful call, or its problem thrown as an `ApiProblem`:
 * `const me = await ok(api.GET("/v1/auth/me"))`.
 */
export async function ok<T>(call: Promise<Settled<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    throw await ApiProblem.from(response, error);
  }
  if (data === undefined) {
    throw new ApiProblem({
      type: "about:blank",
      status: response.status,
      code: "empty-answer",
      title: "The answer has no body",
      detail: `${response.status} from ${response.url} carried no content; use \`done\` for such routes`,
    });
  }
  return data;
}

/** For routes that answer without a body (`202`/`204`): throws the problem if any. */
export async function done(call: Promise<Settled<unknown>>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) {
    throw await ApiProblem.from(response, error);
  }
}

/**
 * Tokens kept in memory, with their refresh wired: `createClient({ baseUrl,
 * ...memorySession() })`. A dashboard keeps them where it chooses instead.
 */
export function memorySession(initial?: TokenPair): {
  getToken: () => string | undefined;
  refresh: Refresh;
  signIn: (tokens: TokenPair) => void;
  signOut: () => void;
} {
  let tokens: TokenPair | undefined = initial;
  return {
    getToken: () => tokens?.accessToken,
    refresh: {
      getRefreshToken: () => tokens?.refreshToken,
      onTokens: (pair) => {
        tokens = pair;
      },
      onSignedOut: () => {
        tokens = undefined;
      },
    },
    signIn: (pair) => {
      tokens = pair;
    },
    signOut: () => {
      tokens = undefined;
    },
  };
}
