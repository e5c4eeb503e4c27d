/**
 * The local fleet's stand-ins for the outside world (`make run` only): the
 * mailbox, a KYC provider's decision, a card payment. Typed from
 * `docs/openapi.local.json`; never deployed.
 */
import createFetchClient, { type Client } from "openapi-fetch";

import type { paths as localPaths } from "./generated/local.js";
import type { ClientOptions } from "./index.js";

export type { localPaths };
export type LocalClient = Client<localPaths, "application/json">;

export function createLocalClient(options: Pick<ClientOptions, "baseUrl" | "getToken">): LocalClient {
  const client = createFetchClient<localPaths, "application/json">({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
  });
  client.use({
    async onRequest({ request }) {
      const token = await options.getToken?.();
      if (token) {
        request.headers.set("authorization", `Bearer ${token}`);
      }
      return request;
    },
  });
  return client;
}
