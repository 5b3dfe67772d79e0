// What the official-client tests share: the server's address, the users'
// tokens (both from e2e/qlikapi_test.go, through the environment), call
// options acting as a user, and the check of a refused call.
import assert from "node:assert/strict";

export const host = process.env.AUTOMATE_URL;
export const tokens = {
  alice: process.env.AUTOMATE_TOKEN_ALICE, // AutomationCreator
  bob: process.env.AUTOMATE_TOKEN_BOB, // AutomationCreator
  admin: process.env.AUTOMATE_TOKEN_ADMIN, // TenantAdmin
  lead: process.env.AUTOMATE_TOKEN_LEAD, // SharedSpaceCreator, AutomationCreator
};
assert.ok(host && Object.values(tokens).every(Boolean), "AUTOMATE_URL and AUTOMATE_TOKEN_* must be set");

// withKey returns call options that authenticate with a bearer credential
// (a JWT or an API key) and skip the client's cache.
export const withKey = (apiKey) => ({ noCache: true, hostConfig: { authType: "apikey", host, apiKey } });

// as returns call options that act as one of the users.
export const as = (who) => withKey(tokens[who]);

// rejects awaits a call that must fail with status and error code.
export async function rejects(promise, status, code) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.status, status, JSON.stringify(err.data));
    assert.equal(err.data.errors[0].code, code);
    assert.ok(err.data.traceId, "traceId in the envelope");
    return err;
  }
  assert.fail(`expected ${status} ${code}, the call succeeded`);
}
