// The README's "Try it" in TypeScript, kept identical to it by a test
// (tools/devkit/tests/test_sdk.py) and type-checked with the package.
import { createClient, memorySession, ok } from "@mindlinks/api";
import { createLocalClient } from "@mindlinks/api/local";

const session = memorySession(); // or keep the tokens where your app does
const api = createClient({ baseUrl: "http://localhost:8080", ...session });
const local = createLocalClient({ baseUrl: "http://localhost:8080" });

await ok(api.POST("/v1/auth/register", {
  body: { email: "ada@example.com", password: "correct horse battery", name: "Ada", role: "client" },
}));
// the verification mail lands in the local mailbox:
const box = await ok(local.GET("/v1/notifications/dev/mailbox", { params: { query: { to: "ada@example.com" } } }));
const token = box.items[0]?.data["token"];
if (typeof token !== "string") throw new Error("no verification mail yet");
await ok(api.POST("/v1/auth/verify-email", { body: { token } }));
session.signIn(await ok(api.POST("/v1/auth/login", {
  body: { email: "ada@example.com", password: "correct horse battery" },
})));
const me = await ok(api.GET("/v1/users/me")); // typed; a problem throws a typed ApiProblem
