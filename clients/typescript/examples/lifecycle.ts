/**
 * The whole `make demo` story against a local fleet, through `@mindlinks/api`
 * alone: a client and its company, an invitation, the contractor's
 * onboarding with KYC, a contract signed by both and activated, its first
 * milestone funded by the local Stripe's signed webhook, then released.
 *
 *   make run                      # in one terminal
 *   make sdk-lifecycle            # in another (MINDLINKS_BASE_URL to point elsewhere)
 *
 * The local stand-ins for the outside world (the mailbox, the KYC provider's
 * decision, the card payment) are typed by `@mindlinks/api/local`.
 */
import { ApiProblem, createClient, memorySession, ok, type MindLinksClient } from "../src/index.js";
import { createLocalClient, type LocalClient } from "../src/local.js";

const BASE_URL = process.env.MINDLINKS_BASE_URL ?? "http://localhost:8080";
const PASSWORD = "a long and unusual passphrase 42";
const PATIENCE_MS = Number(process.env.MINDLINKS_PATIENCE_MS ?? 60_000);

let step = 0;
function say(message: string): void {
  step += 1;
  console.log(`${String(step).padStart(2)}. ${message}`);
}

/** Events travel asynchronously: ask again until `probe` has an answer. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) {
      return found;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface Person {
  email: string;
  name: string;
  role: "client" | "contractor";
  api: MindLinksClient;
  local: LocalClient;
  session: ReturnType<typeof memorySession>;
}

function person(email: string, name: string, role: Person["role"]): Person {
  const session = memorySession();
  return {
    email,
    name,
    role,
    session,
    api: createClient({ baseUrl: BASE_URL, getToken: session.getToken, refresh: session.refresh }),
    local: createLocalClient({ baseUrl: BASE_URL, getToken: session.getToken }),
  };
}

/** A string the local mailbox's mail carries in its data (a token). */
async function mailed(who: Person, template: string, field: string): Promise<string> {
  return until(`the ${template} mail to ${who.email}`, async () => {
    const box = await ok(
      who.local.GET("/v1/notifications/dev/mailbox", { params: { query: { to: who.email } } }),
    );
    const value = box.items.find((mail) => mail.template === template)?.data[field];
    return typeof value === "string" ? value : undefined;
  });
}

/** Before signing, the signer confirms a one-time code (mailed here; an
 * authenticator app's works too): a short-lived token for this contract. */
async function stepUp(who: Person, contractId: string): Promise<string> {
  const purpose = `contract-sign:${contractId}`;
  const challenge = await ok(
    who.api.POST("/v1/auth/step-up/challenges", { body: { method: "email", purpose } }),
  );
  const code = await until(`the step-up code mailed to ${who.email}`, async () => {
    const box = await ok(
      who.local.GET("/v1/notifications/dev/mailbox", { params: { query: { to: who.email } } }),
    );
    const mail = box.items.find(
      (m) => m.template === "auth.step-up-code" && m.data["reference"] === contractId,
    );
    const value = mail?.data["code"];
    return typeof value === "string" ? value : undefined;
  });
  const confirmed = await ok(
    who.api.POST("/v1/auth/step-up", { body: { challengeId: challenge.challengeId, code } }),
  );
  return confirmed.stepUpToken;
}

async function signUp(who: Person): Promise<string> {
  await ok(
    who.api.POST("/v1/auth/register", {
      body: { email: who.email, password: PASSWORD, name: who.name, role: who.role },
    }),
  );
  const token = await mailed(who, "auth.verify-email", "token");
  await ok(who.api.POST("/v1/auth/verify-email", { body: { token } }));
  who.session.signIn(
    await ok(who.api.POST("/v1/auth/login", { body: { email: who.email, password: PASSWORD } })),
  );
  const me = await ok(who.api.GET("/v1/auth/me"));
  say(`${who.role} ${who.email} registered, verified the email and logged in`);
  return me.id;
}

async function main(): Promise<void> {
  const run = globalThis.crypto.randomUUID().slice(0, 8);
  const client = person(`owner-${run}@acme.example`, "Olivia Owner", "client");
  const contractor = person(`dev-${run}@contractor.example`, "Dev Contractor", "contractor");
  await signUp(client);

  const digits = String(Math.floor(Math.random() * 1_000_000)).padStart(6, "0");
  const company = await ok(
    client.api.POST("/v1/clients/register", {
      body: {
        legalName: `Mindlinks Local ${digits} Ltd`,
        jurisdictionCode: "gb",
        companyNumber: `ML${digits}`,
        address: { line1: "1 Widget Street", city: "London", postalCode: "EC1A 1AA", country: "GB" },
      },
    }),
  );
  say(`company ${company.legalName} registered: ${company.status}`);

  await ok(
    client.api.POST("/v1/clients/invite-contractor", {
      body: { email: contractor.email, name: contractor.name },
    }),
  );
  const invitation = await mailed(contractor, "client.invitation", "token");
  say(`contractor invited; the invitation mail reached ${contractor.email}`);
  await signUp(contractor);
  await ok(contractor.api.POST("/v1/contractors/accept-invitation", { body: { token: invitation } }));
  const profile = await ok(contractor.api.GET("/v1/contractors/me"));
  say(`contractor accepted the invitation (contractor ${profile.id})`);

  const kyc = await ok(contractor.api.POST("/v1/kyc/sessions")); // the client adds the Idempotency-Key
  await ok(
    contractor.local.POST("/v1/kyc/dev/sessions/{session_id}/decide", {
      params: { path: { session_id: kyc.id } },
      body: { decision: "approved" },
    }),
  );
  await until("the contractor's KYC", async () => {
    const me = await ok(contractor.api.GET("/v1/contractors/me"));
    return me.kycStatus === "verified" ? me : undefined;
  });
  say("KYC approved by the provider's signed webhook; the contractor is verified");

  const payout = await ok(contractor.api.POST("/v1/payments/payout-account"));
  await ok(
    contractor.local.GET("/v1/payments/dev/accounts/{account_id}/onboard", {
      params: { path: { account_id: payout.accountId } },
    }),
  );
  say(`payout account ${payout.accountId} opened and onboarded`);

  const contract = await ok(
    client.api.POST("/v1/contracts", {
      body: {
        contractorId: profile.id,
        title: "Widget platform build",
        description: "Design and build the widget ordering platform.",
        currency: "EUR",
        startDate: "2027-01-04",
        terms: {
          kind: "milestones",
          milestones: [
            { title: "Design", amountMinor: 150000, dueDate: "2027-02-01" },
            { title: "Build", amountMinor: 350000, dueDate: "2027-04-01" },
          ],
        },
      },
    }),
  );
  const path = { contract_id: contract.id };
  say(`contract ${contract.id} drafted with its PDF (${contract.status})`);
  await ok(client.api.POST("/v1/contracts/{contract_id}/send", { params: { path } }));
  for (const signer of [client, contractor]) {
    const stepUpToken = await stepUp(signer, contract.id);
    await ok(
      signer.api.POST("/v1/signatures/contracts/{contract_id}/sign", {
        params: { path },
        body: { consent: true, signatureName: signer.name, stepUpToken },
      }),
    );
    say(`${signer.role} confirmed a one-time code and signed`);
  }
  await until("the contract to become active", async () => {
    const found = await ok(client.api.GET("/v1/contracts/{contract_id}", { params: { path } }));
    return found.status === "active" ? found : undefined;
  });
  say("the ledger recorded the activation; the contract is active");

  const schedule = await until("the payment schedule", async () => {
    const found = await ok(
      client.api.GET("/v1/payments/contracts/{contract_id}/schedule", { params: { path } }),
    );
    return found.items.length > 0 && found.items.every((item) => item.paymentIntentId)
      ? found.items
      : undefined;
  });
  say(`payment schedule: ${schedule.length} escrowed items`);

  const [first] = schedule;
  if (first?.paymentIntentId == null || first.escrowId == null) {
    throw new Error("the schedule's first item has no payment intent or escrow");
  }
  const escrowId = first.escrowId;
  await ok(
    client.local.POST("/v1/payments/dev/intents/{intent_id}/succeed", {
      params: { path: { intent_id: first.paymentIntentId } },
    }),
  );
  await until("the escrow to be funded", async () => {
    const item = await ok(
      client.api.GET("/v1/payments/escrow/{escrow_id}", { params: { path: { escrow_id: escrowId } } }),
    );
    return item.state === "funded" ? item : undefined;
  });
  say("payment confirmed by Stripe's signed webhook; escrow funded");

  const released = await ok(
    client.api.POST("/v1/payments/escrow/{escrow_id}/release", {
      params: { path: { escrow_id: escrowId } },
    }),
  );
  say(`escrow released to the contractor: ${released.state}`);

  const history = await ok(
    client.api.GET("/v1/ledger/contracts/{contract_id}/history", { params: { path } }),
  );
  say(`ledger: ${history.items.length} entries for the contract`);

  // Every error is one typed ApiProblem: another company's view of this contract.
  const stranger = person(`stranger-${run}@elsewhere.example`, "Sam Stranger", "contractor");
  await signUp(stranger);
  try {
    await ok(stranger.api.GET("/v1/contracts/{contract_id}", { params: { path } }));
    throw new Error("a stranger read the contract");
  } catch (problem) {
    if (!(problem instanceof ApiProblem) || problem.status !== 404) {
      throw problem;
    }
    say(`a stranger is refused: ${problem.status} ${problem.code}`);
  }
  console.log(`\ncontract ${contract.id} is active; its first milestone was funded and released.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ApiProblem ? `${error.message}\n${JSON.stringify(error.body)}` : error);
  process.exit(1);
});
